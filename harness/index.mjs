// One harness for everything that runs a generated project for real (test/*e2e*, `npm run bench`, `npm run
// reliability`): generate and train it, share its venv, start its servers as EB would and stop them with the process.
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
export { pinnedRuff, ROOT, runStep, sharedVenv, VENVS } from './venv.mjs';
export { buildCheckout, GATEWAY, LAUNCHER, openProject, prepareProject, projectVenv } from './project.mjs';
export { startGateway, startGunicorn } from './servers.mjs';
