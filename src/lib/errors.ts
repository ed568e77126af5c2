/**
 * The errors written for the user, in one place. Each carries the exit status it ends the run with: the launcher
 * prints the message alone and exits with `exitCode` (yo exits with `code`, and crashes on a non-number).
 */
import { CONFLICT_LABELS } from './merge-labels.js';

/** A request the generator cannot carry out as given: bad answers, options, files in the way. Nothing was written. */
export class UsageError extends Error {
  override name = 'UsageError';
  exitCode = 2;
  code = 2;
}

/** An upgrade wrote conflict markers (or found earlier ones): the listed files need the user. */
export class ConflictError extends Error {
  override name = 'ConflictError';
  exitCode = 1;
  constructor(public readonly files: string[]) {
    super(
      `${files.length} file${files.length === 1 ? ' has' : 's have'} conflicts between your edits and the new version: ${files.join(', ')}.\n` +
        `Look for the "<<<<<<< ${CONFLICT_LABELS.ours}" markers, keep what you want, delete the markers.`,
    );
  }
}

/** `upgrade --check`: an upgrade would change something (status 2, as `diff` and `git diff --exit-code` use). */
export class UpdateAvailable extends Error {
  override name = 'UpdateAvailable';
  exitCode = 2;
}

/** `sci-eb model import ...` cannot start: not in a project, no venv, no model path. */
export class ModelCommandError extends Error {
  override name = 'ModelCommandError';
  readonly exitCode = 2;
}

/**
 * `sci-eb app`: a step after the project was written failed (its output said why). With --model the project was
 * removed; otherwise it stays, and the message says what to run once it is fixed.
 */
export class InstallFailed extends Error {
  override name = 'InstallFailed';
  readonly code: number;
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.code = exitCode;
  }
}

/** The upgrade was written, but npm could not regenerate a lockfile after its package.json changed: the old one stays. */
export class LockfileError extends Error {
  override name = 'LockfileError';
  exitCode = 1;
}
