// Progress events the long operations emit; the CLI draws them, a library user may ignore them.

/** `done` of `total` units of the named task (e.g. "bench FP16 runs", "calibrate UNet inputs"). */
export interface ProgressEvent {
  task: string;
  done: number;
  total: number;
  detail?: string;
}

export type ProgressListener = (event: ProgressEvent) => void;

export const noProgress: ProgressListener = () => undefined;
