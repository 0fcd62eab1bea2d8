import type * as Ort from 'onnxruntime-node';

export type OrtModule = typeof Ort;

let ortModule: Promise<OrtModule> | undefined;

/**
 * onnxruntime-node, loaded on first use: reading .npy/.npz needs no native addon.
 */
export function loadOrt(): Promise<OrtModule> {
  ortModule ??= import('onnxruntime-node').then((m) => ((m as { default?: OrtModule }).default ?? m) as OrtModule);
  return ortModule;
}
