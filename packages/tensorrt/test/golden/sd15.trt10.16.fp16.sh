# text_encoder FP16 (TensorRT 10.16, weak typing)
trtexec \
    --onnx=models/sd15/text_encoder/model.onnx \
    --saveEngine=engines/sd15/text_encoder.fp16.plan \
    --minShapes=input_ids:1x77 \
    --optShapes=input_ids:1x77 \
    --maxShapes=input_ids:4x77 \
    --fp16 \
    --timingCacheFile=engines/sd15/timing.cache \
    --builderOptimizationLevel=3 \
    --memPoolSize=workspace:4096M

# unet FP16 (TensorRT 10.16, weak typing)
trtexec \
    --onnx=models/sd15/unet/model.onnx \
    --saveEngine=engines/sd15/unet.fp16.plan \
    --minShapes=sample:2x4x32x32,timestep:2,encoder_hidden_states:2x77x768 \
    --optShapes=sample:2x4x64x64,timestep:2,encoder_hidden_states:2x77x768 \
    --maxShapes=sample:8x4x128x128,timestep:8,encoder_hidden_states:8x77x768 \
    --fp16 \
    --timingCacheFile=engines/sd15/timing.cache \
    --builderOptimizationLevel=3 \
    --memPoolSize=workspace:4096M

# vae_decoder FP16 (TensorRT 10.16, weak typing)
trtexec \
    --onnx=models/sd15/vae_decoder/model.onnx \
    --saveEngine=engines/sd15/vae_decoder.fp16.plan \
    --minShapes=latent_sample:1x4x32x32 \
    --optShapes=latent_sample:1x4x64x64 \
    --maxShapes=latent_sample:4x4x128x128 \
    --fp16 \
    --timingCacheFile=engines/sd15/timing.cache \
    --builderOptimizationLevel=3 \
    --memPoolSize=workspace:4096M
