# text_encoder FP32 (TensorRT 10.16, weak typing)
trtexec \
    --onnx=models/tiny-sdxl/text_encoder/model.onnx \
    --saveEngine=engines/tiny-sdxl/text_encoder.fp32.plan \
    --minShapes=input_ids:1x77 \
    --optShapes=input_ids:1x77 \
    --maxShapes=input_ids:4x77 \
    --timingCacheFile=engines/tiny-sdxl/timing.cache \
    --builderOptimizationLevel=3 \
    --memPoolSize=workspace:4096M

# text_encoder_2 FP32 (TensorRT 10.16, weak typing)
trtexec \
    --onnx=models/tiny-sdxl/text_encoder_2/model.onnx \
    --saveEngine=engines/tiny-sdxl/text_encoder_2.fp32.plan \
    --minShapes=input_ids:1x77 \
    --optShapes=input_ids:1x77 \
    --maxShapes=input_ids:4x77 \
    --timingCacheFile=engines/tiny-sdxl/timing.cache \
    --builderOptimizationLevel=3 \
    --memPoolSize=workspace:4096M

# unet FP32 (TensorRT 10.16, weak typing)
trtexec \
    --onnx=models/tiny-sdxl/unet/model.onnx \
    --saveEngine=engines/tiny-sdxl/unet.fp32.plan \
    --minShapes=sample:2x4x32x32,timestep:2,encoder_hidden_states:2x77x64,text_embeds:2x32,time_ids:2x6 \
    --optShapes=sample:2x4x64x64,timestep:2,encoder_hidden_states:2x77x64,text_embeds:2x32,time_ids:2x6 \
    --maxShapes=sample:8x4x128x128,timestep:8,encoder_hidden_states:8x77x64,text_embeds:8x32,time_ids:8x6 \
    --timingCacheFile=engines/tiny-sdxl/timing.cache \
    --builderOptimizationLevel=3 \
    --memPoolSize=workspace:4096M

# vae_decoder FP32 (TensorRT 10.16, weak typing)
trtexec \
    --onnx=models/tiny-sdxl/vae_decoder/model.onnx \
    --saveEngine=engines/tiny-sdxl/vae_decoder.fp32.plan \
    --minShapes=latent_sample:1x4x32x32 \
    --optShapes=latent_sample:1x4x64x64 \
    --maxShapes=latent_sample:4x4x128x128 \
    --timingCacheFile=engines/tiny-sdxl/timing.cache \
    --builderOptimizationLevel=3 \
    --memPoolSize=workspace:4096M
