# text_encoder FP16 (TensorRT 10.16, weak typing)
trtexec \
    --onnx=models/sdxl/text_encoder/model.onnx \
    --saveEngine=engines/sdxl/text_encoder.fp16.plan \
    --minShapes=input_ids:1x77 \
    --optShapes=input_ids:1x77 \
    --maxShapes=input_ids:4x77 \
    --fp16 \
    --timingCacheFile=engines/sdxl/timing.cache \
    --builderOptimizationLevel=3 \
    --memPoolSize=workspace:4096M

# text_encoder_2 FP16 (TensorRT 10.16, weak typing)
trtexec \
    --onnx=models/sdxl/text_encoder_2/model.onnx \
    --saveEngine=engines/sdxl/text_encoder_2.fp16.plan \
    --minShapes=input_ids:1x77 \
    --optShapes=input_ids:1x77 \
    --maxShapes=input_ids:4x77 \
    --fp16 \
    --timingCacheFile=engines/sdxl/timing.cache \
    --builderOptimizationLevel=3 \
    --memPoolSize=workspace:4096M

# unet FP16 (TensorRT 10.16, weak typing)
trtexec \
    --onnx=models/sdxl/unet/model.onnx \
    --saveEngine=engines/sdxl/unet.fp16.plan \
    --minShapes=sample:2x4x32x32,timestep:2,encoder_hidden_states:2x77x2048,text_embeds:2x1280,time_ids:2x6 \
    --optShapes=sample:2x4x64x64,timestep:2,encoder_hidden_states:2x77x2048,text_embeds:2x1280,time_ids:2x6 \
    --maxShapes=sample:8x4x128x128,timestep:8,encoder_hidden_states:8x77x2048,text_embeds:8x1280,time_ids:8x6 \
    --fp16 \
    --timingCacheFile=engines/sdxl/timing.cache \
    --builderOptimizationLevel=3 \
    --memPoolSize=workspace:4096M

# vae_decoder FP16 (TensorRT 10.16, weak typing)
trtexec \
    --onnx=models/sdxl/vae_decoder/model.onnx \
    --saveEngine=engines/sdxl/vae_decoder.fp16.plan \
    --minShapes=latent_sample:1x4x32x32 \
    --optShapes=latent_sample:1x4x64x64 \
    --maxShapes=latent_sample:4x4x128x128 \
    --fp16 \
    --timingCacheFile=engines/sdxl/timing.cache \
    --builderOptimizationLevel=3 \
    --memPoolSize=workspace:4096M
