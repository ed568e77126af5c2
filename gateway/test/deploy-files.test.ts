import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { testApp } from './helpers/app.js';
import { loadConfig } from '../src/config.js';

const root = resolve(import.meta.dirname, '..');
const read = (path: string) => readFileSync(resolve(root, path), 'utf8');

describe('Elastic Beanstalk files', () => {
  it('the instances the rate limiter divides its budget by are the most the auto scaling group runs', () => {
    const config = read('.ebextensions/01-gateway.config');
    const instances = /^ {4}RATE_LIMIT_INSTANCES: "(\d+)"$/m.exec(config)?.[1];
    expect(Number(instances)).toBeGreaterThan(1);
    expect(/^ {2}aws:autoscaling:asg:\n {4}MaxSize: "(\d+)"$/m.exec(config)?.[1]).toBe(instances);
  });

  it('the Procfile starts the built server', () => {
    expect(read('Procfile').trim()).toBe('web: node dist/server.js');
    expect(JSON.parse(read('package.json')).scripts.start).toBe('node dist/server.js');
  });

  it('the bundle is an allow-list: it keeps what the server reads at start-up (contract.json above dist/) and nothing else', () => {
    // .ebignore's rules in .gitignore syntax, as awsebcli applies them (pathspec's gitwildmatch): the last rule that
    // matches a path decides; `!` lets it back in; a leading `/` anchors to this folder; `x/` matches a folder and
    // everything in it; `**` any number of folders. (test/gateway-e2e.test.ts checks the zip awsebcli really builds.)
    const rules = read('.ebignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'))
      .map((line) => {
        const negated = line.startsWith('!');
        let pattern = negated ? line.slice(1) : line;
        const folder = pattern.endsWith('/');
        pattern = pattern.replace(/\/$/, '');
        const anchored = pattern.includes('/');
        // `**/` is zero or more folders, `**` anything, `*` anything but a slash; the rest is literal.
        const body = pattern
          .replace(/^\//, '')
          .replace(/\*\*\/|\*\*|\*|[.+^${}()|[\]\\]/g, (m) =>
            m === '**/' ? '(.*/)?' : m === '**' ? '.*' : m === '*' ? '[^/]*' : `\\${m}`,
          );
        return { negated, regex: new RegExp(`^${anchored ? '' : '(.*/)?'}${body}${folder ? '/' : '(/|$)'}`) };
      });
    const ignored = (path: string) =>
      rules.reduce((decision, rule) => (rule.regex.test(path) ? !rule.negated : decision), false);
    expect(rules[0]).toEqual({ negated: false, regex: expect.any(RegExp) }); // `*` first: everything out
    for (const path of [
      'contract.json',
      'dist/contract.js',
      'dist/server.js',
      'dist/schema/validators.js',
      // The pure code the client package shares with the server is part of the server.
      'dist/shared/members.js',
      // The server names the client package in its OpenAPI document: that module runs, it is no build script.
      'dist/client-package-name.js',
      'schema.json',
      'public/docs.html',
      'package.json',
      'package-lock.json',
      'Procfile',
      '.ebextensions/01-gateway.config',
      '.platform/nginx/conf.d/gateway.conf',
    ])
      expect(ignored(path), path).toBe(false);
    // EB installs production dependencies itself and builds nothing: modules, sources, tests, build scripts, and
    // anything nobody listed (secrets, state files) stay out.
    for (const path of [
      'node_modules/express/index.js',
      'src/server.ts',
      'test/health.test.ts',
      'client/index.ts',
      'client/package.json',
      'dist/scripts/schema-sync.js',
      // The typed client (npm run client:pack) is for frontends: its build and its tarball stay out.
      'dist/client-package/package.json',
      'dist/client-package/dist/index.js',
      'dist/iris-client-1.0.0-model-1.0.0.tgz',
      'dist/server.js.map',
      'dist/server.d.ts',
      '.env',
      'tsconfig.json',
      '.npmrc',
      'id_rsa',
      'config/prod.env',
      'terraform.tfstate',
      'public/.env',
    ])
      expect(ignored(path), path).toBe(true);
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
