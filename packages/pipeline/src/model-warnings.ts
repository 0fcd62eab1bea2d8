// Words before a generation that will not show what the user asked for: a model with random weights (its
// sdq-model.json says so) draws noise, and a model with a prompt language (shapes-sd's TRAINING.json) draws off-prompt
// images for prompts outside it.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { MODEL_FACTS_FILE, type ModelFacts } from '@sdq/onnx';
import { parseShapesPrompt, type PromptLanguage } from './fidelity.js';

/** The model dir's sdq-model.json, or {} when it has none (or it cannot be read: facts are advisory). */
export async function readModelFacts(modelDir: string): Promise<ModelFacts> {
  try {
    const json = JSON.parse(await fs.readFile(path.join(modelDir, MODEL_FACTS_FILE), 'utf8')) as ModelFacts;
    return typeof json === 'object' && json !== null ? json : {};
  } catch {
    return {};
  }
}

/** One-line warnings for generating `prompt` with the model at `modelDir` (empty when the image can follow it). */
export async function generationWarnings(modelDir: string, prompt: string, language: PromptLanguage | undefined): Promise<string[]> {
  const name = path.basename(path.resolve(modelDir));
  const warnings: string[] = [];
  if ((await readModelFacts(modelDir)).weights === 'random') {
    warnings.push(`${name} has random weights (${MODEL_FACTS_FILE}): its images are noise whatever the prompt; it measures speed and conversion, not image quality`);
  }
  if (language && !parseShapesPrompt(prompt, language)) {
    const colours = Object.keys(language.colours);
    warnings.push(
      `"${prompt}" is outside ${name}'s prompt language ("a COLOUR SHAPE on a COLOUR background", colours ${colours.join(', ')}; shapes ${language.shapes.join(', ')}; TRAINING.json): the image will not follow it; try e.g. "a ${colours[0]} ${language.shapes[0]} on a ${colours[1] ?? colours[0]} background"`,
    );
  }
  return warnings;
}
