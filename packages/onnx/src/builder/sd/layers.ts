/**
 * Neural-network layers as ONNX subgraphs, the way torch's exporter writes diffusers/transformers modules
 * (opset 17 ops that onnxruntime runs on CPU). Parameter names follow the torch state dict
 * (`down_blocks.0.resnets.1.conv1.weight`), node names the exporter's scopes (`/down_blocks.0/resnets.1/conv1/Conv`).
 */
import type { GraphBuilder } from '../graph-builder.js';
import { attr } from '../proto-factory.js';

/** Wraps a GraphBuilder with layer helpers and a cache of shared constants. */
export class Layers {
  readonly b: GraphBuilder;
  private readonly shared = new Map<string, string>();

  constructor(builder: GraphBuilder) {
    this.b = builder;
  }

  /** Run `fn` inside scope `name`. */
  in<T>(name: string, fn: () => T): T {
    return this.b.scope(name, fn);
  }

  /** A float32 constant shared by the whole graph (one initializer per distinct value). */
  sharedFloat(key: string, values: readonly number[], dims: readonly number[]): string {
    return this.cached(`float:${key}`, () => this.b.constFloat(`const.${key}`, values, dims));
  }

  /** An int64 constant shared by the whole graph (shapes, axes). */
  sharedInt64(values: readonly number[]): string {
    const key = values.join('_').replaceAll('-', 'm');
    return this.cached(`int64:${key}`, () => this.b.constInt64(`const.int64_${key}`, values));
  }

  /** Conv2d(cin -> cout, k x k, stride, padding k/2), weight std 1/sqrt(fan_in). */
  conv2d(name: string, x: string, cin: number, cout: number, kernel = 3, stride = 1): string {
    return this.in(name, () => {
      const fanIn = cin * kernel * kernel;
      const w = this.b.randomNormal(this.b.paramName('weight'), [cout, cin, kernel, kernel], { std: 1 / Math.sqrt(fanIn) });
      const bias = this.b.randomNormal(this.b.paramName('bias'), [cout], { std: 0.02 });
      const pad = Math.floor(kernel / 2);
      return this.b.op('Conv', [x, w, bias], {
        attrs: { dilations: [1, 1], group: 1, kernel_shape: [kernel, kernel], pads: [pad, pad, pad, pad], strides: [stride, stride] },
      });
    });
  }

  /** Linear on a 2-D input [n, in] as Gemm(transB=1) with weight [out, in] (torch's export of nn.Linear on 2-D). */
  linear2d(name: string, x: string, fin: number, fout: number): string {
    return this.in(name, () => {
      const w = this.b.randomNormal(this.b.paramName('weight'), [fout, fin], { std: 1 / Math.sqrt(fin) });
      const bias = this.b.randomNormal(this.b.paramName('bias'), [fout], { std: 0.02 });
      return this.b.op('Gemm', [x, w, bias], { attrs: { alpha: attr.float(1), beta: attr.float(1), transB: 1 } });
    });
  }

  /** Linear on [..., in] as MatMul with weight [in, out] (+ Add bias): torch's export of nn.Linear on 3-D inputs. */
  linear(name: string, x: string, fin: number, fout: number, bias = true): string {
    return this.in(name, () => {
      const w = this.b.randomNormal(this.b.paramName('weight'), [fin, fout], { std: 1 / Math.sqrt(fin) });
      const y = this.b.op('MatMul', [x, w]);
      if (!bias) return y;
      const bvec = this.b.randomNormal(this.b.paramName('bias'), [fout], { std: 0.02 });
      return this.b.op('Add', [bvec, y]);
    });
  }

  /** SiLU(x) = x * sigmoid(x). */
  silu(x: string): string {
    return this.b.op('Mul', [x, this.b.op('Sigmoid', [x])]);
  }

  /** GELU(x) = 0.5 x (1 + erf(x / sqrt 2)) (exact form, as torch exports nn.GELU()). */
  gelu(x: string): string {
    const inner = this.b.op('Div', [x, this.sharedFloat('sqrt2', [Math.SQRT2], [])]);
    const erf = this.b.op('Erf', [inner]);
    const onePlus = this.b.op('Add', [erf, this.sharedFloat('one', [1], [])]);
    return this.b.op('Mul', [this.b.op('Mul', [x, onePlus]), this.sharedFloat('half', [0.5], [])]);
  }

  /** quick_gelu(x) = x * sigmoid(1.702 x) (CLIP). */
  quickGelu(x: string): string {
    const scaled = this.b.op('Mul', [x, this.sharedFloat('quick_gelu_alpha', [1.702], [])]);
    return this.b.op('Mul', [x, this.b.op('Sigmoid', [scaled])]);
  }

  /**
   * GroupNorm(G groups) on [b, C, h, w] as torch exports it before opset 18: Reshape [b, G, -1] ->
   * InstanceNormalization(ones, zeros) -> Reshape back to Shape(x) -> Mul gamma [C,1,1] -> Add beta [C,1,1].
   */
  groupNorm(name: string, x: string, channels: number, groups: number, eps: number): string {
    return this.in(name, () => {
      const grouped = this.b.op('Reshape', [x, this.sharedInt64([0, groups, -1])]);
      const ones = this.sharedFloat(`ones_${groups}`, new Array<number>(groups).fill(1), [groups]);
      const zeros = this.sharedFloat(`zeros_${groups}`, new Array<number>(groups).fill(0), [groups]);
      const normed = this.b.op('InstanceNormalization', [grouped, ones, zeros], { attrs: { epsilon: attr.float(eps) } });
      const restored = this.b.op('Reshape', [normed, this.b.op('Shape', [x])]);
      const gamma = this.b.randomNormal(this.b.paramName('weight'), [channels, 1, 1], { mean: 1, std: 0.05 });
      const beta = this.b.randomNormal(this.b.paramName('bias'), [channels, 1, 1], { std: 0.05 });
      return this.b.op('Add', [this.b.op('Mul', [restored, gamma]), beta]);
    });
  }

  /** LayerNormalization (opset 17) over the last axis of width `dim`. */
  layerNorm(name: string, x: string, dim: number, eps = 1e-5): string {
    return this.in(name, () => {
      const gamma = this.b.randomNormal(this.b.paramName('weight'), [dim], { mean: 1, std: 0.05 });
      const beta = this.b.randomNormal(this.b.paramName('bias'), [dim], { std: 0.05 });
      return this.b.op('LayerNormalization', [x, gamma, beta], { attrs: { axis: -1, epsilon: attr.float(eps) } });
    });
  }

  /**
   * Multi-head attention: q from `x` [b, n, dim], k/v from `context` [b, m, contextDim] (self-attention when
   * context is x). softmax(q k^T / sqrt(dh)) v, heads split by Reshape [0, 0, heads, dh] + Transpose.
   * `mask` (optional) is added to the scores (CLIP's causal mask).
   */
  attention(
    name: string,
    x: string,
    context: string,
    dim: number,
    contextDim: number,
    heads: number,
    opts: { qkvBias?: boolean; mask?: string; names?: readonly [string, string, string, string] } = {},
  ): string {
    return this.in(name, () => {
      const dh = dim / heads;
      const qkvBias = opts.qkvBias ?? false;
      const [qName, kName, vName, outName] = opts.names ?? ['to_q', 'to_k', 'to_v', 'to_out.0'];
      const q = this.linear(qName, x, dim, dim, qkvBias);
      const k = this.linear(kName, context, contextDim, dim, qkvBias);
      const v = this.linear(vName, context, contextDim, dim, qkvBias);
      const split = this.sharedInt64([0, 0, heads, dh]);
      const qh = this.b.op('Transpose', [this.b.op('Reshape', [q, split])], { attrs: { perm: [0, 2, 1, 3] } });
      const kt = this.b.op('Transpose', [this.b.op('Reshape', [k, split])], { attrs: { perm: [0, 2, 3, 1] } });
      const vh = this.b.op('Transpose', [this.b.op('Reshape', [v, split])], { attrs: { perm: [0, 2, 1, 3] } });
      let scores = this.b.op('Mul', [this.b.op('MatMul', [qh, kt]), this.sharedFloat(`attn_scale_${dh}`, [1 / Math.sqrt(dh)], [])]);
      if (opts.mask) scores = this.b.op('Add', [scores, opts.mask]);
      const probs = this.b.op('Softmax', [scores], { attrs: { axis: -1 } });
      const merged = this.b.op('Transpose', [this.b.op('MatMul', [probs, vh])], { attrs: { perm: [0, 2, 1, 3] } });
      const flat = this.b.op('Reshape', [merged, this.sharedInt64([0, 0, -1])]);
      return this.linear(outName, flat, dim, dim);
    });
  }

  /** GEGLU feed-forward (diffusers FeedForward): proj [dim -> 2*inner] split into h, gate; h * gelu(gate) -> dim. */
  gegluFeedForward(name: string, x: string, dim: number, mult = 4): string {
    return this.in(name, () => {
      const inner = dim * mult;
      const proj = this.in('net.0', () => this.linear('proj', x, dim, inner * 2));
      const [hidden, gate] = this.b.node('Split', [proj, this.sharedInt64([inner, inner])], { outputs: 2, attrs: { axis: -1 } });
      const gated = this.b.op('Mul', [hidden, this.gelu(gate)]);
      return this.linear('net.2', gated, inner, dim);
    });
  }

  private cached(key: string, make: () => string): string {
    let name = this.shared.get(key);
    if (name === undefined) {
      name = make();
      this.shared.set(key, name);
    }
    return name;
  }
}

