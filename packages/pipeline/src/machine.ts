// What the numbers were measured on, recorded in every report.
import * as os from 'node:os';
import { type Device, gpuName } from '@sdq/diffusion';
import type { MachineInfo } from './types.js';

export function machineInfo(onnxruntime: string, device: Device = 'cpu'): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown CPU',
    cpus: os.availableParallelism?.() ?? cpus.length,
    totalMemoryGiB: os.totalmem() / 1024 ** 3,
    platform: `${os.platform()} ${os.arch()} ${os.release()}`,
    node: process.versions.node,
    onnxruntime,
    device,
    gpu: device === 'cpu' ? null : (gpuName() ?? 'unknown GPU'),
  };
}
