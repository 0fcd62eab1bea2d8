// Absolute paths into this package: the model dir is what @sdq/diffusion, @sdq/pipeline and `sdq` take as a model.
import { fileURLToPath } from 'node:url';

/** The shapes-sd model dir (model_index.json, text_encoder/, unet/, vae_decoder/, vae_encoder/, tokenizer/, scheduler/, TRAINING.json). */
export const modelDir = fileURLToPath(new URL('./model/', import.meta.url)).replace(/[\\/]$/, '');

/** The CLIP BPE tokenizer files (vocab.json, merges.txt; 49408 tokens) of SD 1.x, inside the model dir. */
export const tokenizerDir = fileURLToPath(new URL('./model/tokenizer/', import.meta.url)).replace(/[\\/]$/, '');
