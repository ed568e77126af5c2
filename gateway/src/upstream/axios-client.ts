import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosResponse } from 'axios';
import {
  attemptSignal,
  classifyThrown,
  clientOver,
  joinUrl,
  type CallContext,
  type PoolOptions,
  type RawAnswer,
  type UpstreamClient,
  upstreamHeaders,
} from './client.js';

/** The listed client, kept selectable (UPSTREAM_CLIENT=axios) and measured against undici in bench/. */
export function createAxiosClient(options: PoolOptions): UpstreamClient {
  const agentOptions = {
    keepAlive: true,
    maxSockets: options.connections,
    maxFreeSockets: options.connections,
    timeout: options.keepAliveMs,
  };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent(agentOptions);
  // Health and schema requests get sockets of their own, as in the undici client (see there for why).
  const controlOptions = { ...agentOptions, maxSockets: 2, maxFreeSockets: 2 };
  const controlAgents = { httpAgent: new http.Agent(controlOptions), httpsAgent: new https.Agent(controlOptions) };
  const instance = axios.create({
    httpAgent,
    httpsAgent,
    // Status handling and parsing are shared with the undici client (interpretPrediction), so axios must not do either.
    validateStatus: () => true,
    responseType: 'text',
    transformResponse: [(data: unknown) => data],
    maxRedirects: 0,
    proxy: false,
  });
  const predictUrl = joinUrl(options.baseUrl, '/v1/predict').toString();
  const healthUrl = joinUrl(options.baseUrl, options.healthPath).toString();
  const schemaUrl = joinUrl(options.baseUrl, '/v1/schema').toString();

  async function call(method: 'GET' | 'POST', url: string, ctx: CallContext, body?: string): Promise<RawAnswer> {
    const attempt = attemptSignal(ctx);
    const signal = attempt.signal.toAbortSignal();
    let res: AxiosResponse<string>;
    try {
      res = await instance.request<string>({
        method,
        url,
        signal,
        data: body,
        ...(method === 'GET' ? controlAgents : {}),
        headers: upstreamHeaders(options, ctx, body !== undefined),
      });
    } catch (err) {
      throw classifyThrown(err, attempt.timedOut(), attempt.callerAborted());
    } finally {
      attempt.dispose();
    }
    const answer: RawAnswer = {
      status: res.status,
      contentType: String(res.headers['content-type'] ?? ''),
      text: String(res.data ?? ''),
    };
    const modelVersion = res.headers['x-model-version'];
    const retryAfter = res.headers['retry-after'];
    if (typeof modelVersion === 'string') answer.modelVersion = modelVersion;
    if (typeof retryAfter === 'string') answer.retryAfter = retryAfter;
    return answer;
  }

  return clientOver(call, { predict: predictUrl, health: healthUrl, schema: schemaUrl }, async () => {
    httpAgent.destroy();
    httpsAgent.destroy();
    controlAgents.httpAgent.destroy();
    controlAgents.httpsAgent.destroy();
  });
}
