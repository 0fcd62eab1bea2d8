import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { isSdqError } from '@sdq/quant';
import { FIXTURES } from '../testing/fixtures.js';
import { StableDiffusionPipeline } from './pipeline.js';
import { DEVICES, deviceUnavailableMessage, executionProvidersFor, gpuName, isDevice, missingProviderLibraries, onnxruntimeBinaryDir } from './device.js';

const TINY = join(FIXTURES, 'models/tiny-sd');

// onnxruntime-node 1.30's own messages, as it printed them on this machine (no GPU) and on the H200 machine.
const WEBGPU_NO_ADAPTER =
  "Error: /onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters";
const CUDA_NOT_INSTALLED = 'Error: OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library';
const BAD_MODEL = 'Error: Load model from /x/unet/model.onnx failed:Protobuf parsing failed.';

describe('devices', () => {
  it.each([
    ['cpu', ['cpu']],
    ['webgpu', [{ name: 'webgpu', preferredLayout: 'NHWC' }]],
    ['cuda', [{ name: 'cuda', deviceId: 0 }]],
  ] as const)('%s runs on %j', (device, providers) => {
    expect(executionProvidersFor(device)).toEqual(providers);
  });

  it('knows its devices and nothing else', () => {
    expect(DEVICES.every(isDevice)).toBe(true);
    expect(isDevice('gpu')).toBe(false);
  });

  it.each([
    ['webgpu', WEBGPU_NO_ADAPTER, /no WebGPU adapter.*Vulkan/],
    ['cuda', CUDA_NOT_INSTALLED, /CUDA provider cannot start.*CUDA 12/],
  ] as const)('turns onnxruntime\'s %s failure into one line that says what is missing', (device, message, expected) => {
    const line = deviceUnavailableMessage(device, message);
    expect(line).toMatch(expected);
    expect(line).not.toContain('\n');
  });

  it('leaves errors about the model alone', () => {
    expect(deviceUnavailableMessage('webgpu', BAD_MODEL)).toBeUndefined();
    expect(deviceUnavailableMessage('cpu', WEBGPU_NO_ADAPTER)).toBeUndefined();
  });

  it('finds which CUDA provider libraries are missing from onnxruntime-node\'s folder', () => {
    const dir = fs.mkdtempSync(join(os.tmpdir(), 'sdq-ort-bin-'));
    try {
      if (process.platform === 'linux') {
        expect(missingProviderLibraries('cuda', dir)).toEqual(['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so']);
        fs.writeFileSync(join(dir, 'libonnxruntime_providers_shared.so'), '');
        fs.writeFileSync(join(dir, 'libonnxruntime_providers_cuda.so'), '');
        expect(missingProviderLibraries('cuda', dir)).toEqual([]);
      }
      expect(missingProviderLibraries('webgpu', dir)).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads the GPU name from the NVIDIA driver\'s /proc entry, and null without one', () => {
    const root = fs.mkdtempSync(join(os.tmpdir(), 'sdq-nv-'));
    try {
      expect(gpuName(join(root, 'absent'))).toBeNull();
      fs.mkdirSync(join(root, '0000:18:00.0'));
      fs.writeFileSync(join(root, '0000:18:00.0', 'information'), 'Model: \t\t NVIDIA H200\nIRQ:   \t\t 41\n');
      expect(gpuName(root)).toBe('NVIDIA H200');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('locates onnxruntime-node\'s native folder', () => {
    const dir = onnxruntimeBinaryDir();
    expect(dir).not.toBeNull();
    expect(fs.readdirSync(dir!).some((f) => f.startsWith('libonnxruntime'))).toBe(true);
  });
});

describe('StableDiffusionPipeline on a device', () => {
  it('names the missing CUDA provider before loading anything', async () => {
    const bin = onnxruntimeBinaryDir();
    const installed = bin !== null && missingProviderLibraries('cuda', bin).length === 0;
    const load = StableDiffusionPipeline.fromDir(TINY, { device: 'cuda', logger: () => undefined });
    if (installed) {
      // a machine with the CUDA provider installed: it loads, or says which CUDA library is missing
      await load.then((p) => p.dispose()).catch((e: unknown) => expect(String(e)).toMatch(/CUDA/));
    } else {
      await expect(load).rejects.toThrow(/--device cuda: onnxruntime-node's CUDA provider is not installed \(missing .*libonnxruntime_providers_cuda\.so\)/);
    }
  });

  it('runs on WebGPU where there is an adapter and says none is there otherwise (no CPU fallback)', async () => {
    const load = StableDiffusionPipeline.fromDir(TINY, { device: 'webgpu', logger: () => undefined, sessionOptions: { logSeverityLevel: 4 } });
    const outcome = await load.then(
      async (p) => {
        await p.dispose();
        return 'loaded';
      },
      (e: unknown) => e,
    );
    if (outcome === 'loaded') {
      expect(gpuName()).not.toBeNull();
    } else {
      expect(isSdqError(outcome)).toBe(true);
      expect(String((outcome as Error).message)).toMatch(/^--device webgpu: no WebGPU adapter/);
    }
  });
});
