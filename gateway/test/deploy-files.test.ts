import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { testApp } from './helpers/app.js';
import { loadConfig } from '../src/config.js';

const root = resolve(import.meta.dirname, '..');
const read = (path: string) => readFileSync(resolve(root, path), 'utf8');

describe('Elastic Beanstalk files', () => {
  it('the Procfile starts the built server', () => {
    expect(read('Procfile').trim()).toBe('web: node dist/server.js');
    expect(JSON.parse(read('package.json')).scripts.start).toBe('node dist/server.js');
  });

  it('the bundle keeps contract.json, which dist/contract.js reads from the folder above it at start-up', () => {
    // .ebignore uses .gitignore syntax; these patterns are plain names, folders (x/) and * globs.
    const patterns = read('.ebignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const matches = (pattern: string, path: string) => {
      const glob = new RegExp(
        `^${pattern
          .replace(/\/$/, '')
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '[^/]*')}(/|$)`,
      );
      return glob.test(path);
    };
    expect(patterns.length).toBeGreaterThan(0);
    expect(patterns.filter((p) => matches(p, 'test/x.ts'))).not.toEqual([]); // the matcher does match what it should
    for (const path of [
      'contract.json',
      'dist/contract.js',
      'dist/server.js',
      'schema.json',
      'public/docs.html',
      'package.json',
      'package-lock.json',
      'Procfile',
    ]) {
      expect(
        patterns.filter((p) => matches(p, path)),
        path,
      ).toEqual([]);
    }
    // EB installs production dependencies itself and builds nothing: modules, sources, tests and secrets stay out.
    for (const path of [
      'node_modules/express/index.js',
      'src/server.ts',
      'test/health.test.ts',
      'client/index.ts',
      '.env',
      'tsconfig.json',
    ]) {
      expect(
        patterns.filter((p) => matches(p, path)),
        path,
      ).not.toEqual([]);
    }
    expect(new URL('../contract.json', new URL('../dist/contract.js', import.meta.url)).pathname).toBe(
      resolve(root, 'contract.json'),
    );
    expect(JSON.parse(read('contract.json')).contractVersion).toBe(1);
  });

  it('the health check path is answered 200 without an API key or upstream', async () => {
    const config = read('.ebextensions/01-gateway.config');
    const path = /HealthCheckPath:\s*(\S+)/.exec(config)?.[1];
    expect(path).toBe('/health/live');
    const res = await request(testApp({ UPSTREAM_URL: 'http://127.0.0.1:9' })).get(path!);
    expect(res.status).toBe(200);
  });

  it('the environment it sets is valid configuration', () => {
    const config = read('.ebextensions/01-gateway.config');
    const block = config.split('aws:elasticbeanstalk:application:environment:')[1]!.split(/\n {2}\S/)[0]!;
    const env: Record<string, string> = {};
    for (const match of block.matchAll(/^ {4}([A-Z_]+):\s*"?([^"\n]*)"?$/gm)) env[match[1]!] = match[2]!;
    expect(Object.keys(env)).toEqual(expect.arrayContaining(['PORT', 'HOST', 'TRUST_PROXY']));
    const parsed = loadConfig({ ...env, UPSTREAM_URL: 'https://flask.example.com', ALLOW_ANONYMOUS: 'true' });
    expect(parsed.TRUST_PROXY).toBe(2);
    expect(parsed.HOST).toBe('127.0.0.1');
  });

  it('every dependency is pinned exactly and the engines range matches the project', () => {
    const pkg = JSON.parse(read('package.json'));
    for (const [name, version] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })) {
      expect(version, name).toMatch(/^\d+\.\d+\.\d+$/);
    }
    expect(pkg.engines.node).toBe('^20.17 || >=22');
  });
});
