// Where the sessions run: the CPU, the GPU through onnxruntime-node's bundled WebGPU provider (Dawn), or NVIDIA's CUDA
// provider (not bundled: its install script downloads it). A device that is not there is an error, never a silent CPU run.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type * as ort from 'onnxruntime-node';
import { SdqError } from '@sdq/quant';

export const DEVICES = ['cpu', 'webgpu', 'cuda'] as const;
export type Device = (typeof DEVICES)[number];

export function isDevice(value: string): value is Device {
  return (DEVICES as readonly string[]).includes(value);
}

/**
 * The execution providers for a device. WebGPU asks for NHWC explicitly: on an H200 the SD 1.5 UNet step took 116 ms
 * in NHWC against 197 ms in NCHW (tools/bench/gpu/unet-profile.mjs --layout), and the typings' default says NCHW.
 */
export function executionProvidersFor(device: Device): ort.InferenceSession.ExecutionProviderConfig[] {
  switch (device) {
    case 'cpu':
      return ['cpu'];
    case 'webgpu':
      return [{ name: 'webgpu', preferredLayout: 'NHWC' }];
    case 'cuda':
      return [{ name: 'cuda', deviceId: 0 }];
  }
}

/** The folder with onnxruntime-node's native libraries for this platform, or null when it cannot be found. */
export function onnxruntimeBinaryDir(): string | null {
  try {
    const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
    const dir = path.join(path.dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch);
    return fs.existsSync(dir) ? dir : null;
  } catch {
    return null;
  }
}

const CUDA_PROVIDER_LIBRARIES = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];

/** Provider libraries a device needs that are missing from onnxruntime-node's folder (CUDA only; the others are built in). */
export function missingProviderLibraries(device: Device, binaryDir = onnxruntimeBinaryDir()): string[] {
  if (device !== 'cuda') return [];
  if (process.platform !== 'linux') return [`the CUDA provider (onnxruntime-node ships it for Linux x64 only, this is ${process.platform} ${process.arch})`];
  if (binaryDir === null) return CUDA_PROVIDER_LIBRARIES;
  return CUDA_PROVIDER_LIBRARIES.filter((f) => !fs.existsSync(path.join(binaryDir, f)));
}

export const CUDA_INSTALL_HINT =
  'install them with onnxruntime-node\'s own script where it can reach its download server: ' +
  '`ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node` (needs CUDA 12 and cuDNN 9 on the machine), or use --device webgpu';

/** Throws a one-line SdqError when the device cannot work here before any model is loaded. */
export function checkDeviceRuntime(device: Device): void {
  const missing = missingProviderLibraries(device);
  if (missing.length > 0) {
    throw new SdqError('UNSUPPORTED', `--device cuda: onnxruntime-node's CUDA provider is not installed (missing ${missing.join(', ')}); ${CUDA_INSTALL_HINT}`);
  }
}

/**
 * onnxruntime's message for a device that is absent, as one line that says what is missing and what to do; undefined
 * when the error is about something else (a bad model, say).
 */
export function deviceUnavailableMessage(device: Device, message: string): string | undefined {
  if (device === 'webgpu' && /WebGPU adapter|No supported adapters|webgpu_context/i.test(message)) {
    return '--device webgpu: no WebGPU adapter on this machine (Dawn found no GPU through Vulkan): needs a GPU with a Vulkan driver and the Vulkan loader (libvulkan1); run on --device cpu otherwise';
  }
  if (device === 'cuda' && /CUDA|cudart|cudnn|libcu|providers_shared/i.test(message)) {
    const lib = /lib[\w.+-]+\.so[\d.]*/.exec(message)?.[0];
    return `--device cuda: the CUDA provider cannot start${lib ? ` (${lib} cannot be loaded)` : ''}; it needs an NVIDIA driver, CUDA 12 and cuDNN 9 libraries on the library path; ${CUDA_INSTALL_HINT}`;
  }
  return undefined;
}

/** The GPU's name as the driver reports it (NVIDIA's /proc entry), or null where none is readable. */
export function gpuName(root = '/proc/driver/nvidia/gpus'): string | null {
  try {
    for (const bus of fs.readdirSync(root)) {
      const info = fs.readFileSync(path.join(root, bus, 'information'), 'utf8');
      const model = /^Model:\s*(.+)$/m.exec(info)?.[1]?.trim();
      if (model) return model;
    }
  } catch {
    // no NVIDIA driver: fall through
  }
  return null;
}
