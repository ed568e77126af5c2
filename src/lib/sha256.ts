import { createHash } from 'node:crypto';

/** The hash the manifest records per file, and the name of a merge base's blob. */
export const sha256 = (content: Buffer | string) => createHash('sha256').update(content).digest('hex');
