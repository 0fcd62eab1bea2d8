// Prompt fidelity for shapes-sd (fixtures/PROVENANCE.md): for a prompt "a FG SHAPE on a BG background",
// fg = fraction of pixels within Euclidean distance 60 (0-255 units) of FG's RGB, bg likewise for BG;
// the colours are faithful when fg >= 0.03 and bg >= 0.5. The shape is judged on the largest 4-connected component
// of FG-coloured pixels: how much of its bounding box it fills (ideal: triangle 1/2, circle pi/4, square 1) and how
// close it comes to the box's 4 corners (ideal gaps: square 0 at all four, circle (sqrt 2 - 1)/2 = 0.207 at all four,
// upward triangle 0.447 at the top two and 0 at the bottom two). The image is faithful when colours and shape both are.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { RgbImage } from './image.js';

export type Rgb255 = readonly [number, number, number];

/** The language of a judgeable model: its colours (RGB 0-255) and shapes, from TRAINING.json. */
export interface PromptLanguage {
  colours: Readonly<Record<string, Rgb255>>;
  shapes: readonly string[];
}

export interface FidelityVerdict {
  prompt: string;
  fg: number;
  bg: number;
  /** Share of its bounding box that the largest 4-connected FG-coloured component fills (0 without FG pixels). */
  fill: number;
  /** Mean distance from the bounding box's 4 corners to that component, over the box's longer side. */
  cornerGap: number;
  /** Largest minus smallest of those 4 corner distances (a triangle's two far corners make it large). */
  cornerSpread: number;
  /** The shape the component reads as, or null when it reads as none of them (a ragged blob, noise). */
  shape: string | null;
  /** fg and bg thresholds met (the colour-only judge). */
  colourFaithful: boolean;
  /** Colours and shape both right. */
  faithful: boolean;
}

export const FIDELITY_DISTANCE = 60;
export const FIDELITY_MIN_FG = 0.03;
export const FIDELITY_MIN_BG = 0.5;

/**
 * The shape rule. Measured on shapes-sd FP32/FP16/INT8 images (12 prompts, DDIM 10 and 25 steps, seed 42):
 * triangles fill 0.56-0.63 of their box, circles 0.68-0.82, squares 0.81-0.92, so fill alone confuses soft-cornered
 * squares with circles and small circles with triangles. The corners tell them apart: squares' mean corner gap is
 * 0.08-0.12, circles' 0.16-0.22; triangles' spread (far top corners, touching bottom ones) is >= 0.25, circles' and
 * squares' <= 0.08. A region that fills too little of its box for its corners is no shape (a ragged blob, noise).
 */
export const SHAPE_RULE = { triangleMinSpread: 0.2, triangleFill: [0.4, 0.75], squareMaxGap: 0.14, squareMinFill: 0.75, circleMinFill: 0.6 } as const;

/** The judge in one sentence, for the legends of the table and the reports. */
export const FIDELITY_RULE =
  `faithful = right colours (>= ${FIDELITY_MIN_FG * 100}% of pixels within RGB distance ${FIDELITY_DISTANCE} of the shape's colour, >= ${FIDELITY_MIN_BG * 100}% of the background's) ` +
  `and right shape, read from the largest 4-connected shape-coloured region, its bounding box's fill and its gaps to the box's 4 corners (in box sides): ` +
  `a triangle when the gaps differ by >= ${SHAPE_RULE.triangleMinSpread} and fill is ${SHAPE_RULE.triangleFill[0]}-${SHAPE_RULE.triangleFill[1]}, ` +
  `else a square when the mean gap is < ${SHAPE_RULE.squareMaxGap} and fill >= ${SHAPE_RULE.squareMinFill}, a circle when it is >= ${SHAPE_RULE.squareMaxGap} and fill >= ${SHAPE_RULE.circleMinFill}, otherwise no shape; ` +
  `"colour" counts the colour test alone`;

const PROMPT_PATTERN = /^an? (\w+) (\w+) on an? (\w+) background$/;

/** Parse "a FG SHAPE on a BG background"; undefined when the prompt is not in the language. */
export function parseShapesPrompt(
  prompt: string,
  language: PromptLanguage,
): { fg: string; shape: string; bg: string } | undefined {
  const m = PROMPT_PATTERN.exec(prompt.trim().toLowerCase());
  if (!m) return undefined;
  const [, fg, shape, bg] = m;
  if (!(fg in language.colours) || !(bg in language.colours) || !language.shapes.includes(shape)) return undefined;
  return { fg, shape, bg };
}

/** Fraction of pixels whose RGB (0-255) lies within `distance` of `colour`. */
export function colourFraction(img: RgbImage, colour: Rgb255, distance = FIDELITY_DISTANCE): number {
  const n = img.width * img.height;
  const d2 = distance * distance;
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const dr = img.data[3 * i] * 255 - colour[0];
    const dg = img.data[3 * i + 1] * 255 - colour[1];
    const db = img.data[3 * i + 2] * 255 - colour[2];
    if (dr * dr + dg * dg + db * db <= d2) hits++;
  }
  return hits / n;
}

/**
 * The largest 4-connected component of pixels within `distance` of `colour`: its size in pixels and the share of its
 * bounding box it fills (fill = pixels / (bbox width x bbox height)).
 */
export function largestComponentFill(img: RgbImage, colour: Rgb255, distance = FIDELITY_DISTANCE): { pixels: number; fill: number; cornerGaps: number[] } {
  const { width, height } = img;
  const d2 = distance * distance;
  const mask = new Uint8Array(width * height);
  for (let i = 0; i < mask.length; i++) {
    const dr = img.data[3 * i] * 255 - colour[0];
    const dg = img.data[3 * i + 1] * 255 - colour[1];
    const db = img.data[3 * i + 2] * 255 - colour[2];
    mask[i] = dr * dr + dg * dg + db * db <= d2 ? 1 : 0;
  }
  const stack = new Int32Array(width * height);
  const members = new Int32Array(width * height);
  let best = { pixels: 0, fill: 0, cornerGaps: [0, 0, 0, 0] };
  for (let start = 0; start < mask.length; start++) {
    if (mask[start] !== 1) continue;
    // Flood fill (explicit stack); visited pixels are marked 2.
    let top = 0;
    const visit = (j: number): void => {
      if (mask[j] !== 1) return;
      mask[j] = 2;
      stack[top++] = j;
    };
    visit(start);
    let pixels = 0;
    let x0 = width, x1 = -1, y0 = height, y1 = -1;
    while (top > 0) {
      const i = stack[--top];
      const x = i % width;
      const y = (i - x) / width;
      members[pixels++] = i;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      if (x > 0) visit(i - 1);
      if (x < width - 1) visit(i + 1);
      if (y > 0) visit(i - width);
      if (y < height - 1) visit(i + width);
    }
    if (pixels > best.pixels) {
      best = { pixels, fill: pixels / ((x1 - x0 + 1) * (y1 - y0 + 1)), cornerGaps: cornerGaps(members.subarray(0, pixels), width, [x0, y0, x1, y1]) };
    }
  }
  return best;
}

/** For the box's corners (top-left, top-right, bottom-left, bottom-right): distance to the nearest member pixel over the box's longer side. */
function cornerGaps(members: Int32Array, width: number, [x0, y0, x1, y1]: readonly [number, number, number, number]): number[] {
  const side = Math.max(x1 - x0 + 1, y1 - y0 + 1);
  return [[x0, y0], [x1, y0], [x0, y1], [x1, y1]].map(([cx, cy]) => {
    let nearest = Infinity;
    for (const i of members) {
      const x = i % width;
      const y = (i - x) / width;
      nearest = Math.min(nearest, (x - cx) ** 2 + (y - cy) ** 2);
    }
    return Math.sqrt(nearest) / side;
  });
}

/** The shape a region with this bounding-box fill and these 4 corner gaps reads as (SHAPE_RULE), or null. */
export function readShape(fill: number, gaps: readonly number[]): 'triangle' | 'circle' | 'square' | null {
  const spread = Math.max(...gaps) - Math.min(...gaps);
  const gap = gaps.reduce((a, b) => a + b, 0) / gaps.length;
  const r = SHAPE_RULE;
  if (spread >= r.triangleMinSpread) return fill >= r.triangleFill[0] && fill <= r.triangleFill[1] ? 'triangle' : null;
  if (gap < r.squareMaxGap) return fill >= r.squareMinFill ? 'square' : null;
  return fill >= r.circleMinFill ? 'circle' : null;
}

const JUDGED_SHAPES: readonly string[] = ['triangle', 'circle', 'square'];

/** Judge one image against its prompt; undefined when the prompt is outside the language. */
export function judgeFidelity(img: RgbImage, prompt: string, language: PromptLanguage): FidelityVerdict | undefined {
  const parsed = parseShapesPrompt(prompt, language);
  if (!parsed) return undefined;
  const fg = colourFraction(img, language.colours[parsed.fg]);
  const bg = colourFraction(img, language.colours[parsed.bg]);
  const { fill, cornerGaps: gaps } = largestComponentFill(img, language.colours[parsed.fg]);
  const shape = readShape(fill, gaps);
  const colourFaithful = fg >= FIDELITY_MIN_FG && bg >= FIDELITY_MIN_BG;
  // A shape the rule does not know (a language beyond circle/square/triangle) is judged by its colours alone.
  const shapeRight = JUDGED_SHAPES.includes(parsed.shape) ? shape === parsed.shape : true;
  const cornerGap = gaps.reduce((a, b) => a + b, 0) / gaps.length;
  const cornerSpread = Math.max(...gaps) - Math.min(...gaps);
  return { prompt, fg, bg, fill, cornerGap, cornerSpread, shape, colourFaithful, faithful: colourFaithful && shapeRight };
}

/** The model's prompt language from `<modelDir>/TRAINING.json`, or undefined when the model has none. */
export async function readPromptLanguage(modelDir: string): Promise<PromptLanguage | undefined> {
  let text: string;
  try {
    text = await fs.readFile(path.join(modelDir, 'TRAINING.json'), 'utf8');
  } catch {
    return undefined;
  }
  const json = JSON.parse(text) as { colours?: Record<string, number[]>; shapes?: string[] };
  if (!json.colours || !json.shapes) return undefined;
  const colours: Record<string, Rgb255> = {};
  for (const [name, rgb] of Object.entries(json.colours)) colours[name] = [rgb[0], rgb[1], rgb[2]];
  return { colours, shapes: json.shapes };
}

/**
 * A fixed, balanced prompt set of `count` prompts: every shape, foreground colours cycling through the palette,
 * background colours offset so foreground != background. Deterministic, so reports are comparable run to run.
 */
export function fidelityPromptSet(language: PromptLanguage, count = 12): string[] {
  const colours = Object.keys(language.colours);
  const prompts: string[] = [];
  for (let i = 0; i < count; i++) {
    const fg = colours[i % colours.length];
    const shape = language.shapes[i % language.shapes.length];
    const bgIndex = (i * 3 + 1 + Math.floor(i / colours.length)) % colours.length;
    const bg = colours[bgIndex === i % colours.length ? (bgIndex + 1) % colours.length : bgIndex];
    prompts.push(`a ${fg} ${shape} on a ${bg} background`);
  }
  return prompts;
}
