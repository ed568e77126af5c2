// One harness for everything that runs a generated project for real (test/*e2e*, `npm run bench`, `npm run
// reliability`): generate and train it, share its venv, start its servers as EB would and stop them with the process.
// bench/ and reliability/ share code only through here (neither imports the other): the request rows, the memory and
// machine readings, the open-loop load and the gunicorn stop-and-start scenario.
export {
  CLK_TCK,
  childPids,
  cpuSeconds,
  freePort,
  installExitHandlers,
  isListening,
  killAll,
  sleep,
  start,
  stop,
  waitHttp,
  waitPortFree,
} from './procs.mjs';
export { acquirePort8000, PROCFILE_PORT } from './port-lock.mjs';
export { releaseDirLock, tryDirLock } from './dir-lock.mjs';
export { pinnedRuff, ROOT, runStep, runStepAsync, sharedVenv, VENVS } from './venv.mjs';
export { buildCheckout, GATEWAY, LAUNCHER, openProject, prepareProject, projectVenv } from './project.mjs';
export { startGateway, startGunicorn } from './servers.mjs';
export { machineInfo, makeRows, memory } from './measure.mjs';
export { bodyShape, openLoop } from './openloop.mjs';
export { directRestart, healthy, summariseRestart } from './restart.mjs';
