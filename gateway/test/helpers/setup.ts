import { afterAll, afterEach, expect } from 'vitest';
import { closeApps } from './app.js';

// Every test file fails if anything in the gateway let a promise rejection go unhandled.
const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => {
  unhandled.push(reason);
});

afterEach(() => {
  expect(unhandled, 'unhandled promise rejections').toEqual([]);
});

afterAll(async () => {
  await closeApps();
});
