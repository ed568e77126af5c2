import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPredictionClient, PredictionProblem, type FeatureRow } from '../client/index.js';
import { API_KEY, IRIS, irisRow, listen, testApp } from './helpers/app.js';
import { closedPort, echoPrediction, startFakeUpstream, type FakeUpstream } from './helpers/upstream.js';
import { loadModelSchema } from '../src/schema/load.js';

// The client's FeatureRow is generated from the project's schema (npm run schema:sync); these tests talk to a gateway
// built from the iris fixture, so fixture rows are passed through the client as they are, whatever the project's model.
const fixtureRow = (...args: Parameters<typeof irisRow>) => irisRow(...args) as unknown as FeatureRow;

let upstream: FakeUpstream;
let gateway: { url: string; close(): Promise<void> };
beforeAll(async () => {
  upstream = await startFakeUpstream(IRIS);
  gateway = await listen(testApp({ UPSTREAM_URL: upstream.url }));
});
afterAll(async () => {
  await gateway.close();
  await upstream.close();
});

describe('typed frontend client (client/)', () => {
  it('predicts with typed rows and returns the typed answer with request id and model version', async () => {
    const client = createPredictionClient({ baseURL: gateway.url, apiKey: API_KEY });
    const rows: FeatureRow[] = [fixtureRow(5.0), fixtureRow(6.7)];
    const answer = await client.predict(rows, { requestId: 'client-test-1' });
    const schema = loadModelSchema(IRIS);
    expect(answer.predictions).toEqual(rows.map((r) => echoPrediction(schema, { ...r }).prediction));
    expect(answer.classes).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(answer.requestId).toBe('client-test-1');
    expect(answer.modelVersion).toBe('3f2a9c0d41b7');
    expect((await client.schema())['model']).toMatchObject({ name: 'iris-classifier' });
  });

  it('surfaces a 422 as PredictionProblem with status, type and errors[]', async () => {
    const client = createPredictionClient({ baseURL: gateway.url, apiKey: API_KEY });
    const bad = { ...irisRow(), petal_width: 'wide' } as unknown as FeatureRow;
    const err = await client.predict([fixtureRow(), bad]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PredictionProblem);
    const problem = err as PredictionProblem;
    expect(problem.status).toBe(422);
    expect(problem.type).toBe('urn:sci-eb:problem:validation-error');
    expect(problem.errors).toEqual([
      { pointer: '/instances/1/petal_width', code: 'not_a_number', detail: 'must be a number' },
    ]);
    expect(problem.errorsForRow(1)).toEqual({ petal_width: 'must be a number' });
    expect(problem.requestId).toBeTruthy();
  });

  it('surfaces 401 and network failures as PredictionProblem too', async () => {
    const noKey = createPredictionClient({ baseURL: gateway.url });
    const unauthorized = (await noKey.predict([fixtureRow()]).catch((e: unknown) => e)) as PredictionProblem;
    expect(unauthorized).toBeInstanceOf(PredictionProblem);
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.type).toBe('urn:sci-eb:problem:unauthorized');

    const port = await closedPort();
    const nowhere = createPredictionClient({ baseURL: `http://127.0.0.1:${port}`, apiKey: API_KEY });
    const network = (await nowhere.predict([fixtureRow()]).catch((e: unknown) => e)) as PredictionProblem;
    expect(network).toBeInstanceOf(PredictionProblem);
    expect(network.status).toBe(0);
    expect(network.type).toBe('urn:sci-eb:problem:network-error');
  });
});
