import { fileURLToPath } from 'node:url';

/** Paths of the package's test data and the repo fixtures (test helpers only; not exported from index.ts). */
export const TESTDATA = fileURLToPath(new URL('../../testdata/', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('../../../../fixtures/', import.meta.url));
