import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { ConfigError, loadConfig, PACKAGE_ROOT } from '../src/config.js';
import { IRIS, MIXED, testApp } from './helpers/app.js';

const minimal = { UPSTREAM_URL: 'http://127.0.0.1:8000', ALLOW_ANONYMOUS: 'true' };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('configuration was accepted');
}

describe('configuration from the environment', () => {
  it('has working defaults for everything but the upstream URL and the key decision', () => {
    const config = loadConfig(minimal);
    expect(config).toMatchObject({
      HOST: '127.0.0.1',
      PORT: 8080,
      UPSTREAM_HEALTH_PATH: '/health',
      UPSTREAM_CLIENT: 'undici',
      BATCH_ENABLED: true,
      BATCH_WINDOW_MS: 5,
      RATE_LIMIT_MAX: 600,
      TRUST_PROXY: 0,
      CORS_ORIGINS: [],
      API_KEY_HASHES: [],
    });
    expect(config.SCHEMA_PATH).toBe(resolve(PACKAGE_ROOT, 'schema.json'));
    expect(config.BATCH_MAX_ROWS).toBeUndefined();
  });

  it('names every bad variable and what it should be, without echoing values', () => {
    const problems = problemsOf({
      UPSTREAM_URL: 'ftp://secret-host/x',
      PORT: 'eighty',
      BATCH_ENABLED: 'maybe',
      UPSTREAM_RETRIES: '99',
      API_KEY_HASHES: 'abc,def',
      CORS_ORIGINS: 'https://ok.example.com,*',
      LOG_LEVEL: 'verbose',
      REDIS_URL: 'http://cache:6379',
      UPSTREAM_CLIENT: 'fetch',
      UPSTREAM_TOKEN: 'short,secret',
    });
    const text = problems.join('\n');
    for (const name of [
      'UPSTREAM_URL',
      'PORT',
      'BATCH_ENABLED',
      'UPSTREAM_RETRIES',
      'API_KEY_HASHES',
      'CORS_ORIGINS',
      'LOG_LEVEL',
      'REDIS_URL',
      'UPSTREAM_CLIENT',
      'UPSTREAM_TOKEN',
    ]) {
      expect(
        problems.some((p) => p.startsWith(name)),
        name,
      ).toBe(true);
    }
    expect(text).toContain('UPSTREAM_RETRIES must be a whole number from 0 to 10');
    expect(text).toContain('BATCH_ENABLED must be true or false');
    expect(text).not.toContain('secret-host');
    expect(text).not.toContain('eighty');
    expect(text).not.toContain('short,secret');
  });

  it('requires UPSTREAM_URL, and either key hashes or an explicit ALLOW_ANONYMOUS', () => {
    const problems = problemsOf({});
    expect(problems.some((p) => p.startsWith('UPSTREAM_URL'))).toBe(true);
    expect(problems.some((p) => p.startsWith('API_KEY_HASHES') && p.includes('ALLOW_ANONYMOUS=true'))).toBe(true);
  });

  it('treats empty variables as unset and accepts the usual boolean spellings', () => {
    const config = loadConfig({ ...minimal, PORT: '', BATCH_ENABLED: 'OFF', RATE_LIMIT_FAIL_OPEN: '0' });
    expect(config.PORT).toBe(8080);
    expect(config.BATCH_ENABLED).toBe(false);
    expect(config.RATE_LIMIT_FAIL_OPEN).toBe(false);
  });

  it('refuses a batch row cap above the model limit once the schema is known', () => {
    expect(() => testApp({ SCHEMA_PATH: MIXED, BATCH_MAX_ROWS: '51' })).toThrow(
      /BATCH_MAX_ROWS must be at most the model's limits.maxRows \(50\)/,
    );
    expect(() => testApp({ SCHEMA_PATH: IRIS, BATCH_MAX_ROWS: '1000' })).not.toThrow();
  });
});
