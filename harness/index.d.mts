// Types of harness/index.mjs, for the TypeScript tests (the harness itself is plain ESM so bench and reliability
// import it without a build).
import type { ChildProcess, SpawnSyncOptions } from 'node:child_process';

export type Log = (line: string) => void;

export interface Child extends ChildProcess {
  label: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export const CLK_TCK: number;
/** Takes a lock directory if free: true, else its owner's pid (NaN while being written); see dir-lock.mjs. */
export function tryDirLock(lock: string): true | number;
export function releaseDirLock(lock: string): void;
export function childPids(pid: number): number[];
export function cpuSeconds(pid: number): number | undefined;
export function freePort(): Promise<number>;
export function installExitHandlers(name: string): void;
export function isListening(port: number, host?: string): Promise<boolean>;
export function killAll(): void;
export function sleep(ms: number): Promise<void>;
export function start(
  name: string,
  command: string,
  args: string[],
  options?: { cwd?: string; env?: NodeJS.ProcessEnv; stdout?: string; stderr?: string },
): Child;
export function stop(child: Child | undefined, graceMs?: number): Promise<void>;
export function waitHttp(url: string, child?: Child, timeoutMs?: number): Promise<any>;
export function waitPortFree(port: number, timeoutMs: number): Promise<boolean>;

export const PROCFILE_PORT: number;
export function acquirePort8000(options?: {
  timeoutMs?: number;
  onWait?: (ownerPid: number) => void;
}): Promise<() => void>;

export const ROOT: string;
export const VENVS: string;
export function runStep(log: Log, title: string, command: string, args: string[], options?: SpawnSyncOptions): string;
export function runStepAsync(
  log: Log,
  title: string,
  command: string,
  args: string[],
  options?: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number },
): Promise<string>;
export function sharedVenv(kind: string, requirements: string[], log?: Log): string;
export function pinnedRuff(log?: Log): string;

export const GATEWAY: string;
export const LAUNCHER: string;

export interface Project {
  name: string;
  dir: string;
  /** The Procfile's web: command. */
  web: string;
  workers: number;
  port: number;
  schemaPath: string;
  /** model/schema.json, once trained. */
  schema?: {
    model: { name: string; version: string; [key: string]: unknown };
    features: Array<Record<string, any>>;
    [key: string]: any;
  };
}
export interface PreparedProject extends Project {
  venv: string;
}

export function buildCheckout(log: Log): void;
export function openProject(dir: string): Project;
export function projectVenv(dir: string, log?: Log): string;
export function prepareProject(options: {
  parent: string;
  name: string;
  args?: string[];
  log?: Log;
  fresh?: boolean;
  train?: boolean;
}): PreparedProject;

export interface Logs {
  stdout: string;
  stderr: string;
}
export interface Gunicorn {
  child: Child;
  port: number;
  url: string;
  bootSeconds: number;
  logs: Logs;
  output(): string;
  workerPids(): number[];
  pids(): Record<string, number>;
  stop(graceMs?: number): Promise<void>;
}
export function startGunicorn(
  project: Project & { venv?: string },
  options: {
    venv?: string;
    logDir: string;
    label?: string;
    settle?: boolean;
    onWait?: (ownerPid: number) => void;
    /** Environment variables beside the shell's (GATEWAY_ONLY, SERVICE_TOKENS: the service as deployed behind its gateway). */
    env?: Record<string, string>;
  },
): Promise<Gunicorn>;

export interface Gateway {
  child: Child;
  port: number;
  url: string;
  logs: Logs;
  pids(): Record<string, number>;
  stop(graceMs?: number): Promise<void>;
}
export function startGateway(options: {
  upstreamUrl: string;
  schemaPath?: string;
  env?: Record<string, string>;
  nodeArgs?: string[];
  label?: string;
  cwd?: string;
  logDir: string;
  ready?: string;
}): Promise<Gateway>;

export interface Memory {
  rssMiB: number;
  pssMiB?: number;
}
export function memory(pid: number): Memory | undefined;
export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  memoryAvailableGiB: number;
  kernel: string;
  openblas: Record<string, string>;
}
export function machineInfo(): MachineInfo;
export function makeRows(
  schema: { features: Array<Record<string, any>> },
  count: number,
  seed?: number,
): Array<Record<string, string | number>>;

/** One request of an open loop; times in ms since the loop's t0. */
export interface LoopRecord {
  i: number;
  scheduledMs: number;
  sentMs: number;
  doneMs: number;
  latencyMs: number;
  /** 0 when no answer came (client timeout or connection error, then `error` says which). */
  status: number;
  shape?: string;
  error?: string;
  retryAfter?: string;
  problemType?: string;
  problemDetail?: string;
}
export function bodyShape(status: number, contentType: string | undefined, text: string): string;
export function openLoop(options: {
  port: number;
  path?: string;
  bodies: string[];
  rate: number;
  seconds: number;
  t0: number;
  clientTimeoutMs: number;
}): { promise: Promise<LoopRecord[]>; stop(): void; sent(): number };

export function healthy(port: number, timeoutMs?: number): Promise<boolean>;
export interface RestartRun {
  stopMs: number;
  stoppedMs: number;
  startMs: number;
  healthyMs: number;
  endMs: number;
  records: LoopRecord[];
}
export function directRestart(options: {
  gatewayPort: number;
  upstreamPort: number;
  bodies: string[];
  rate: number;
  beforeMs: number;
  downMs: number;
  afterMs: number;
  clientTimeoutMs: number;
  stopUpstream(): Promise<void>;
  startUpstream(): Promise<void>;
  log: Log;
}): Promise<RestartRun>;
export interface RestartSummary {
  requests: number;
  errors: number;
  errorsByStatus: Record<string, number>;
  stopMs: number;
  stoppedMs: number;
  startMs: number;
  healthyMs: number;
  firstOkAfterHealthyMs?: number;
  lastErrorAfterHealthyMs?: number;
  outageRequests: number;
  outageP50Ms?: number;
  outageMaxMs?: number;
}
export function summariseRestart(run: RestartRun): RestartSummary;
