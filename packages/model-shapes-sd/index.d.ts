/** The shapes-sd model dir (model_index.json, text_encoder/, unet/, vae_decoder/, vae_encoder/, tokenizer/, scheduler/, TRAINING.json). */
export declare const modelDir: string;

/** The CLIP BPE tokenizer files (vocab.json, merges.txt; 49408 tokens) of SD 1.x, inside the model dir. */
export declare const tokenizerDir: string;
