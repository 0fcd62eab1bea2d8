# text_encoder INT8 (TensorRT 10.16, weak typing)
# note: QDQ model: the Q/DQ scales decide INT8; --fp16 lets the unquantized layers run in FP16.
trtexec \
    --onnx=models/tiny-sdxl-int8/text_encoder/model.onnx \
    --saveEngine=engines/tiny-sdxl/text_encoder.int8.plan \
    --minShapes=input_ids:1x77 \
    --optShapes=input_ids:1x77 \
    --maxShapes=input_ids:4x77 \
    --fp16 \
    --int8 \
    --timingCacheFile=engines/tiny-sdxl/timing.cache \
    --builderOptimizationLevel=3 \
    --memPoolSize=workspace:4096M

# text_encoder_2 INT8 (TensorRT 10.16, weak typing)
# note: QDQ model: the Q/DQ scales decide INT8; --fp16 lets the unquantized layers run in FP16.
trtexec \
    --onnx=models/tiny-sdxl-int8/text_encoder_2/model.onnx \
    --saveEngine=engines/tiny-sdxl/text_encoder_2.int8.plan \
    --minShapes=input_ids:1x77 \
    --optShapes=input_ids:1x77 \
    --maxShapes=input_ids:4x77 \
    --fp16 \
    --int8 \
    --timingCacheFile=engines/tiny-sdxl/timing.cache \
    --builderOptimizationLevel=3 \
    --memPoolSize=workspace:4096M

# unet INT8 (TensorRT 10.16, weak typing)
# note: QDQ model: the Q/DQ scales decide INT8; --fp16 lets the unquantized layers run in FP16.
trtexec \
    --onnx=models/tiny-sdxl-int8/unet/model.onnx \
    --saveEngine=engines/tiny-sdxl/unet.int8.plan \
    --minShapes=sample:2x4x32x32,timestep:2,encoder_hidden_states:2x77x64,text_embeds:2x32,time_ids:2x6 \
    --optShapes=sample:2x4x64x64,timestep:2,encoder_hidden_states:2x77x64,text_embeds:2x32,time_ids:2x6 \
    --maxShapes=sample:8x4x128x128,timestep:8,encoder_hidden_states:8x77x64,text_embeds:8x32,time_ids:8x6 \
    --fp16 \
    --int8 \
    --timingCacheFile=engines/tiny-sdxl/timing.cache \
    --builderOptimizationLevel=3 \
    --memPoolSize=workspace:4096M

# vae_decoder INT8 (TensorRT 10.16, weak typing)
# note: QDQ model: the Q/DQ scales decide INT8; --fp16 lets the unquantized layers run in FP16.
trtexec \
    --onnx=models/tiny-sdxl-int8/vae_decoder/model.onnx \
    --saveEngine=engines/tiny-sdxl/vae_decoder.int8.plan \
    --minShapes=latent_sample:1x4x32x32 \
    --optShapes=latent_sample:1x4x64x64 \
    --maxShapes=latent_sample:4x4x128x128 \
    --fp16 \
    --int8 \
    --timingCacheFile=engines/tiny-sdxl/timing.cache \
    --builderOptimizationLevel=3 \
    --memPoolSize=workspace:4096M
