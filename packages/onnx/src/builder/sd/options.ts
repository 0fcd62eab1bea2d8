import type { ExternalDataWriter } from '../external-data-writer.js';
import { GraphBuilder, type WeightMode } from '../graph-builder.js';

/** Options shared by the SD component builders. */
export interface SdBuildOptions {
  /** Default-domain opset: 17 (default) or 18. */
  opset?: number;
  /** IR version: 8 (default, as torch's TorchScript exporter writes for opset 17) or 10 (node metadata_props). */
  irVersion?: number;
  /** Attach `namespace` / `pkg.torch.onnx.name_scopes` metadata_props to every node (as torch's dynamo exporter does).
   *  Default: on when irVersion >= 10. */
  nodeMetadata?: boolean;
  /** PRNG seed of the weights (default 0). */
  seed?: number;
  weights?: WeightMode;
  /** Stream weights into this external data file (see ExternalDataWriter). */
  externalData?: ExternalDataWriter;
  /** Graph name (default the component's, e.g. `text_encoder`; SDXL's second encoder is `text_encoder_2`). */
  graphName?: string;
}

export function sdGraphBuilder(graphName: string, options: SdBuildOptions): GraphBuilder {
  const irVersion = options.irVersion ?? 8;
  const withMetadata = options.nodeMetadata ?? irVersion >= 10;
  const name = options.graphName ?? graphName;
  return new GraphBuilder({
    name,
    opset: options.opset ?? 17,
    irVersion,
    seed: options.seed ?? 0,
    weights: options.weights ?? 'random',
    externalData: options.externalData,
    producerName: 'sdq',
    producerVersion: '0.1.0',
    nodeMetadata: withMetadata
      ? (scope, opType) => ({
          namespace: [name, ...scope].join('/') + `: ${opType}`,
          'pkg.torch.onnx.name_scopes': JSON.stringify([name, ...scope]),
        })
      : undefined,
  });
}
