import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Generator runs and the end-to-end suite spawn pip, gunicorn and awsebcli: real work, real time.
    testTimeout: 120_000,
    hookTimeout: 900_000,
    pool: 'forks',
  },
});
