// The packages as a downstream user gets them: build and pack every workspace package (prepack adds LICENSE,
// README, assets), check the tarballs (no npm warnings, no dev scripts or nx block, publint, @arethetypeswrong),
// install them into a fresh project outside the repo with an isolated (linked) install and with `npm install -g`,
// import and require each package, typecheck consumer .ts files against the shipped types (the core packages without
// @types/node), and run the installed `sdq` from an empty folder: `sdq generate` must draw the red circle (judged by
// @sdq/pipeline's fidelity rule) and `sdq fixture create` must work. Ends with `consumer test: N passed, N failed`
// (tools/ci-totals.mjs counts it) and exits 1 on any failure.
// Usage: node tools/consumer-test.mjs [--onnxruntime-node VERSION] [--keep]
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const ortVersion = args.includes('--onnxruntime-node') ? args[args.indexOf('--onnxruntime-node') + 1] : undefined;
const keep = args.includes('--keep');
const PROMPT = 'a red circle on a blue background';

let passed = 0;
let failed = 0;
async function check(name, fn) {
  const t0 = Date.now();
  try {
    const detail = await fn();
    passed++;
    console.log(`  ✓ ${name}${detail ? `: ${detail}` : ''} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    return true;
  } catch (err) {
    failed++;
    const out = [err.stdout, err.stderr].filter(Boolean).join('\n').trim().split('\n').slice(-15).join('\n    ');
    console.log(`  ✗ ${name}: ${String(err.message ?? err).split('\n')[0]}${out ? `\n    ${out}` : ''}`);
    return false;
  }
}
function finish() {
  console.log(`consumer test: ${passed} passed, ${failed} failed`);
  if (!keep) rmSync(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
  process.exit(failed > 0 ? 1 : 0);
}
// SDQ_FIXTURES unset: the installed CLI must find its model without the repo.
const sh = (cmd, argv, cwd, env = {}) => run(cmd, argv, { cwd, env: { ...process.env, SDQ_FIXTURES: undefined, ...env }, maxBuffer: 64 << 20 });
const npm = (argv, cwd, env) => sh('npm', ['--no-audit', '--no-fund', '--no-update-notifier', ...argv], cwd, env);

const work = mkdtempSync(path.join(tmpdir(), 'sdq-consumer-'));
const packs = path.join(work, 'packs');
const app = path.join(work, 'app');
const empty = path.join(work, 'empty');
for (const d of [packs, app, empty]) mkdirSync(d);
const workspaces = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).workspaces.flatMap((glob) => {
  const base = path.join(root, glob.replace(/\/\*$/, ''));
  return readdirSync(base).filter((d) => existsSync(path.join(base, d, 'package.json'))).map((d) => path.join(base, d));
});
const manifests = workspaces.map((dir) => JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')));
const libraries = manifests.filter((m) => m.exports?.['.']).map((m) => m.name);
console.log(`consumer test in ${work}: ${manifests.length} packages`);

// Build every package once (for real in CI, where NX_SKIP_NX_CACHE is set), then pack: each prepack adds LICENSE,
// README and assets and checks the manifest's files; SDQ_PREPACK_BUILT spares it a second Nx build per package.
const nx = path.join(root, 'node_modules/nx/dist/bin/nx.js');
if (!(await check('nx run-many -t build', async () => void (await sh(process.execPath, [nx, 'run-many', '-t', 'build', '--output-style=static'], root, { NX_DAEMON: 'false' }))))) finish();
if (!(await check('npm pack every package (prepack: LICENSE, README, files check; no npm warnings)', async () => {
  const { stderr } = await npm(['pack', '--workspaces', '--pack-destination', packs], root, { SDQ_PREPACK_BUILT: '1' });
  const warnings = stderr.split('\n').filter((l) => /^npm warn/i.test(l));
  if (warnings.length) throw new Error(`npm pack warned:\n${warnings.join('\n')}`);
  const tarballs = readdirSync(packs).filter((f) => f.endsWith('.tgz'));
  if (tarballs.length !== manifests.length) throw new Error(`expected ${manifests.length} tarballs, got ${tarballs.join(', ')}`);
  for (const t of tarballs) {
    const { stdout } = await sh('tar', ['-tzf', path.join(packs, t)], packs);
    for (const f of ['package/LICENSE', 'package/README.md', 'package/package.json']) if (!stdout.includes(f)) throw new Error(`${t} has no ${f}`);
    const manifest = JSON.parse((await sh('tar', ['-xzOf', path.join(packs, t), 'package/package.json'], packs)).stdout);
    const devOnly = Object.keys(manifest.scripts ?? {}).filter((s) => s !== 'prepack');
    if (manifest.nx || devOnly.length) throw new Error(`${t}: the published package.json carries ${manifest.nx ? 'an nx block' : `scripts ${devOnly.join(', ')}`}`);
  }
  return tarballs.join(' ');
}))) finish();
const tarballs = readdirSync(packs).filter((f) => f.endsWith('.tgz')).map((f) => path.join(packs, f));

const { publint } = await import('publint');
const { formatMessage } = await import('publint/utils');
await check('publint (level suggestion) on every tarball', async () => {
  const problems = [];
  for (const t of tarballs) {
    const buf = readFileSync(t);
    const { messages, pkg } = await publint({ pack: { tarball: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) }, level: 'suggestion', strict: true });
    for (const m of messages) problems.push(`${path.basename(t)}: ${formatMessage(m, pkg)}`);
  }
  if (problems.length) throw new Error(problems.join('\n'));
});
// ESM-only: require() of these packages works through Node's require(esm) (engines: ^20.19 || >=22.12), which
// attw's node10 / node16-cjs resolutions do not model; this is attw's esm-only profile, run through its core
// (one TypeScript load for all packages; `npx attw <tarball> --profile esm-only` prints the same verdict).
await check('@arethetypeswrong (profile esm-only) on every package with an entry point', async () => {
  const { checkPackage, createPackageFromTarballData } = await import('@arethetypeswrong/core');
  const problems = [];
  for (const m of manifests.filter((x) => libraries.includes(x.name))) {
    const t = tarballs.find((f) => path.basename(f) === `${m.name.slice(1).replace('/', '-')}-${m.version}.tgz`);
    const analysis = await checkPackage(createPackageFromTarballData(new Uint8Array(readFileSync(t))));
    if (!analysis.types) problems.push(`${m.name}: no types found`);
    else for (const p of analysis.problems) if (!['node10', 'node16-cjs'].includes(p.resolutionKind)) problems.push(`${m.name}: ${JSON.stringify(p)}`);
  }
  if (problems.length) throw new Error(problems.join('\n'));
});

// The global install runs while the linked one is checked (mostly I/O: it unpacks onnxruntime-node again).
const globalPrefix = path.join(work, 'global');
const globalInstall = npm(['install', '-g', '--prefix', globalPrefix, '--prefer-offline', ...tarballs], empty, { ONNXRUNTIME_NODE_INSTALL: 'skip' });
globalInstall.catch(() => undefined); // its failure is reported by its check below

// A fresh project outside the repo, isolated (linked) install of the tarballs; onnxruntime-node (a peer dependency)
// comes in as npm resolves it: the newest release in the packages' range, or --onnxruntime-node VERSION.
writeFileSync(path.join(app, 'package.json'), JSON.stringify({
  name: 'sdq-consumer', private: true, type: 'module',
  // onnxruntime-node's install script only downloads GPU binaries; current npm blocks it unless allowed, say so.
  allowScripts: { 'onnxruntime-node': false },
}, null, 2));
if (!(await check('npm install --install-strategy=linked of the tarballs in a fresh project', async () => {
  const extra = ortVersion ? [`onnxruntime-node@${ortVersion}`] : [];
  await npm(['install', '--install-strategy=linked', '--prefer-offline', ...tarballs, ...extra], app, { ONNXRUNTIME_NODE_INSTALL: 'skip' });
  // one native runtime per process: every package's peer resolves to the same single copy
  const orts = readdirSync(path.join(app, 'node_modules/.store')).filter((d) => d.startsWith('onnxruntime-node@'));
  if (orts.length !== 1) throw new Error(`expected one onnxruntime-node, got ${orts.join(', ')}`);
  const ort = JSON.parse(readFileSync(path.join(app, 'node_modules/.store', orts[0], 'node_modules/onnxruntime-node/package.json'), 'utf8'));
  return `onnxruntime-node ${ort.version}`;
}))) finish();

await check(`import every library in ESM and require() it (${libraries.length})`, async () => {
  const script = `for (const name of ${JSON.stringify([...libraries])}) {
    const esm = await import(name);
    if (Object.keys(esm).length === 0) throw new Error(name + ' exports nothing');
    const cjs = (await import('node:module')).createRequire(import.meta.url)(name);
    if (Object.keys(cjs).join() !== Object.keys(esm).join()) throw new Error(name + ': require() and import differ');
  }
  const m = await import('@sdq/model-shapes-sd');
  if (!(await import('node:fs')).existsSync(m.modelDir + '/model_index.json')) throw new Error('@sdq/model-shapes-sd has no model at ' + m.modelDir);`;
  writeFileSync(path.join(app, 'imports.mjs'), script);
  await sh(process.execPath, ['imports.mjs'], app);
});

// Typechecks with the repo's TypeScript (strict, nodenext, skipLibCheck off so the shipped .d.ts are checked too).
async function typecheck(name, source, compilerOptions) {
  writeFileSync(path.join(app, `${name}.ts`), source);
  writeFileSync(path.join(app, `tsconfig.${name}.json`), JSON.stringify({
    compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, skipLibCheck: false, ...compilerOptions },
    files: [`${name}.ts`],
  }));
  await sh(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', `tsconfig.${name}.json`], app);
}
await check('typecheck a consumer .ts of @sdq/quant, onnx, calib and model-shapes-sd without @types/node', () => typecheck('core', `import { SdqError, isSdqError } from '@sdq/quant';
import { readModel, writeModel } from '@sdq/onnx';
import { collectRanges, type UnetStepInputs } from '@sdq/calib';
import { modelDir, tokenizerDir } from '@sdq/model-shapes-sd';

export async function core(): Promise<string[]> {
  const model = await readModel(modelDir + '/unet/model.onnx', { externalData: 'lazy' });
  const r = await writeModel(model, 'unet.onnx', { sourceDir: modelDir + '/unet' });
  const hook: (inputs: UnetStepInputs) => void = () => undefined;
  const err: unknown = new SdqError('NOT_FOUND', 'x');
  return [tokenizerDir, String(r.modelBytes), String(isSdqError(err)), typeof collectRanges, typeof hook];
}
`, { lib: ['es2023'], types: [] }));
// tensorrt's and onnxruntime-node's declarations use Node's globals (AbortSignal, Buffer, URL), onnxruntime-common's
// also DOM types (ImageData, WebGLTexture): a consumer of the packages that run models has @types/node and lib dom.
await check('typecheck a consumer .ts of every library (the calls docs/ shows) with @types/node', () => typecheck('consumer', `import { captureUnetInputs, defaultPrompts, type UnetStepInputs } from '@sdq/calib';
import { calibrationCacheFromRanges, formatCalibrationCache } from '@sdq/tensorrt';
import { StableDiffusionPipeline } from '@sdq/diffusion';
import { generateImage, judgeFidelity, openPipelineGenerator, readPromptLanguage } from '@sdq/pipeline';
import { modelDir } from '@sdq/model-shapes-sd';

export async function consumer(): Promise<string[]> {
  const cache: string = formatCalibrationCache(calibrationCacheFromRanges({ x: { min: -1, max: 1 } }, { trtVersion: '10.16' }));
  const { image } = await generateImage(modelDir, { prompt: '${PROMPT}' });
  const language = await readPromptLanguage(modelDir);
  const faithful: boolean | undefined = language && judgeFidelity(image, '${PROMPT}', language)?.faithful;
  // docs/calibration.md: capture through the pipeline's generator
  let hook: (inputs: UnetStepInputs) => void = () => {};
  const gen = await openPipelineGenerator(modelDir, { scheduler: 'ddim', threads: 2, onUnetInputs: (f) => hook(f) });
  await captureUnetInputs('unet_inputs.npz', await defaultPrompts(), async (prompt, { seed }, onUnetInputs) => {
    hook = onUnetInputs;
    await gen.generate({ prompt, negativePrompt: '', steps: 10, guidance: 7.5, seed, width: 512, height: 512 });
  }, { seed: 0, onProgress: (p) => console.log(\`\${p.generation}/\${p.generations}: \${p.sets} sets\`) });
  const pipe = await StableDiffusionPipeline.fromDir(modelDir);
  await pipe.dispose();
  return [cache, String(faithful)];
}
`, { lib: ['es2023', 'dom'], types: ['node'], typeRoots: [path.join(root, 'node_modules/@types')] }));

// The installed CLI from an empty folder: nothing of the repo above it.
const sdq = path.join(app, 'node_modules/.bin/sdq');
await check('sdq --help (installed bin, empty folder)', async () => {
  const { stdout } = await sh(sdq, ['--help'], empty);
  if (!/generate/.test(stdout)) throw new Error(`no command list in:\n${stdout}`);
});
await check(`sdq generate --prompt "${PROMPT}" from an empty folder draws it (fidelity judge)`, async () => {
  await sh(sdq, ['generate', '--prompt', PROMPT, '--out', 'red-circle.png', '--quiet'], empty);
  const { PNG } = await import('pngjs');
  const png = PNG.sync.read(readFileSync(path.join(empty, 'red-circle.png')));
  const data = new Float32Array(png.width * png.height * 3);
  for (let i = 0; i < png.width * png.height; i++) for (let c = 0; c < 3; c++) data[3 * i + c] = png.data[4 * i + c] / 255;
  const { judgeFidelity, readPromptLanguage } = await import('@sdq/pipeline');
  const { modelDir } = await import(path.join(app, 'node_modules/@sdq/model-shapes-sd/index.js'));
  const verdict = judgeFidelity({ width: png.width, height: png.height, data }, PROMPT, await readPromptLanguage(modelDir));
  const detail = `${png.width}x${png.height}, fg ${verdict.fg.toFixed(3)} bg ${verdict.bg.toFixed(3)}`;
  if (!verdict.faithful) throw new Error(`not faithful: ${detail}`);
  return detail;
});
await check('npm install -g of the tarballs (own prefix): sdq --help', async () => {
  await globalInstall;
  const { stdout } = await sh(path.join(globalPrefix, 'bin/sdq'), ['--help'], empty);
  if (!/generate/.test(stdout)) throw new Error(`no command list in:\n${stdout}`);
});
await check('sdq fixture create --preset tiny from an empty folder', async () => {
  const { stdout } = await sh(sdq, ['fixture', 'create', '--preset', 'tiny', '--out', 'tiny-sd', '--json', '--quiet'], empty);
  const r = JSON.parse(stdout);
  for (const f of ['model_index.json', 'unet/model.onnx', 'tokenizer/vocab.json', 'tokenizer/merges.txt']) {
    if (!existsSync(path.join(empty, 'tiny-sd', f))) throw new Error(`tiny-sd/${f} missing`);
  }
  return `${r.bytes} bytes`;
});

finish();
