import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { SdqError } from '@sdq/quant';
import { Graph, topologicalSort } from './graph.js';
import { validateModel } from './validate.js';
import { decodeModel, emptyNode } from './proto/model.js';
import type { ModelProto, NodeProto } from './proto/types.js';

const MODELS = fileURLToPath(new URL('../../../fixtures/models', import.meta.url));
const load = (c: string): ModelProto => decodeModel(readFileSync(join(MODELS, `tiny-sd/${c}/model.onnx`)));

const node = (name: string, inputs: string[], outputs: string[], opType = 'Relu', domain?: string): NodeProto => {
  const n = emptyNode();
  Object.assign(n, { name, input: inputs, output: outputs, opType, domain });
  return n;
};

/** Every node input is produced earlier in `order` or comes from `sources`. */
const isTopological = (order: readonly NodeProto[], sources: Set<string>): boolean => {
  const seen = new Set(sources);
  for (const n of order) {
    if (!n.input.every((i) => i === '' || seen.has(i))) return false;
    n.output.forEach((o) => seen.add(o));
  }
  return true;
};

const graphSources = (m: ModelProto): Set<string> => new Set([...m.graph!.input.map((v) => v.name!), ...m.graph!.initializer.map((t) => t.name!)]);

describe('Graph', () => {
  it.each(['unet', 'text_encoder', 'vae_decoder', 'vae_encoder'])('fixture %s validates clean and sorts topologically', (c) => {
    const m = load(c);
    expect(validateModel(m).filter((f) => f.severity === 'error')).toEqual([]);
    const g = new Graph(m.graph!);
    const order = g.topologicalOrder();
    expect(order).toHaveLength(m.graph!.node.length);
    expect(isTopological(order, graphSources(m))).toBe(true);
  });

  it('re-sorts a reversed UNet into a valid order and indexes producers/consumers', () => {
    const m = load('unet');
    const g = new Graph(m.graph!);
    m.graph!.node.reverse();
    g.invalidate();
    expect(isTopological(m.graph!.node, graphSources(m))).toBe(false);
    g.sortTopologically();
    expect(isTopological(m.graph!.node, graphSources(m))).toBe(true);
    for (const n of m.graph!.node) {
      for (const o of n.output) expect(g.producer(o)).toBe(n);
      for (const i of n.input) if (i) expect(g.consumers(i)).toContain(n);
    }
    const sample = g.consumers('sample');
    expect(sample.length).toBeGreaterThan(0);
    expect(g.valueType('sample')?.tensorType?.elemType).toBe(1);
  });

  it('edits: rename a value, bypass a node, remove unused', () => {
    const m = load('vae_decoder');
    const g = new Graph(m.graph!);
    const first = g.topologicalOrder()[0]!;
    const out = first.output[0]!;
    const readers = g.consumers(out).length;
    g.renameValue(out, 'renamed_value');
    expect(g.producer('renamed_value')).toBe(first);
    expect(g.consumers('renamed_value')).toHaveLength(readers);
    expect(g.consumers(out)).toHaveLength(0);
    expect(() => g.renameValue('renamed_value', m.graph!.input[0]!.name!)).toThrow(SdqError);
    expect(validateModel(m).filter((f) => f.severity === 'error')).toEqual([]);

    // removing a node leaves its readers dangling, which validation reports
    g.removeNode(first);
    const findings = validateModel(m);
    expect(findings.some((f) => f.code === 'DANGLING_INPUT' && f.value === 'renamed_value')).toBe(true);
    g.addNode(first, 0);
    expect(validateModel(m).filter((f) => f.severity === 'error')).toEqual([]);

    // an unread node is removed by removeUnused
    g.addNode(node('dead', [m.graph!.input[0]!.name!], ['dead_out']));
    expect(g.removeUnused().nodes).toBe(1);
    expect(g.producer('dead_out')).toBeUndefined();
  });

  it('reads initializers as typed arrays', () => {
    const m = load('text_encoder');
    const g = new Graph(m.graph!);
    const t = m.graph!.initializer.find((x) => x.dims.length === 2)!;
    expect(g.initializerArray(t.name!).length).toBe(t.dims[0]! * t.dims[1]!);
    expect(() => g.initializerArray('nope')).toThrow(SdqError);
  });

  it('topologicalSort puts any shuffled random DAG in a valid order (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.nat(), { maxLength: 3 }), { minLength: 1, maxLength: 40 }), fc.nat(), (deps, seed) => {
        // node i reads outputs of earlier nodes only -> a DAG
        const nodes = deps.map((d, i) => node(`n${i}`, i === 0 ? ['x'] : d.map((k) => `v${k % i}`), [`v${i}`]));
        const shuffled = [...nodes];
        let s = seed;
        for (let i = shuffled.length - 1; i > 0; i--) {
          s = (s * 1103515245 + 12345) % 2147483648;
          const j = s % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
        }
        const { order, cyclic } = topologicalSort(shuffled);
        return cyclic.length === 0 && order.length === nodes.length && isTopological(order, new Set(['x']));
      }),
    );
  });
});

describe('validateModel', () => {
  it('reports a cycle, an unknown domain, a duplicate value and a missing output', () => {
    const m = load('vae_encoder');
    const g = m.graph!;
    g.node.push(node('a', ['b_out'], ['a_out']), node('b', ['a_out'], ['b_out']));
    g.node.push(node('custom', [g.input[0]!.name!], ['c_out'], 'Fancy', 'com.example'));
    g.node.push(node('dup', [g.input[0]!.name!], ['c_out']));
    g.output.push({ name: 'never_made', metadataProps: [] });
    const codes = validateModel(m).map((f) => f.code);
    expect(codes).toEqual(expect.arrayContaining(['CYCLE', 'UNKNOWN_DOMAIN', 'DUPLICATE_VALUE', 'MISSING_OUTPUT']));
    expect(() => new Graph(g).topologicalOrder()).toThrow(/cycle/);
  });

  it('reports a model without opsets or graph', () => {
    const m = load('vae_encoder');
    m.opsetImport = [];
    m.graph = undefined;
    expect(validateModel(m).map((f) => f.code)).toEqual(['NO_OPSET', 'NO_GRAPH']);
  });
});
