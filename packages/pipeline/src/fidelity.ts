// Prompt fidelity for shapes-sd (fixtures/PROVENANCE.md): for a prompt "a FG SHAPE on a BG background",
// fg = fraction of pixels within Euclidean distance 60 (0-255 units) of FG's RGB, bg likewise for BG;
// the image is faithful when fg >= 0.03 and bg >= 0.5.
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
  faithful: boolean;
}

export const FIDELITY_DISTANCE = 60;
export const FIDELITY_MIN_FG = 0.03;
export const FIDELITY_MIN_BG = 0.5;

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

/** Judge one image against its prompt; undefined when the prompt is outside the language. */
export function judgeFidelity(img: RgbImage, prompt: string, language: PromptLanguage): FidelityVerdict | undefined {
  const parsed = parseShapesPrompt(prompt, language);
  if (!parsed) return undefined;
  const fg = colourFraction(img, language.colours[parsed.fg]);
  const bg = colourFraction(img, language.colours[parsed.bg]);
  return { prompt, fg, bg, faithful: fg >= FIDELITY_MIN_FG && bg >= FIDELITY_MIN_BG };
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
