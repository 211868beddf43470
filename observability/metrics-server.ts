/**
 * Serves GET /metrics on its own port (PATHWAY_METRICS_PORT), never on the API's: scrapers reach
 * it on the private network, the public never does. The Temporal SDK's own metrics, which its
 * runtime exports on a loopback port, are appended so one scrape gets both.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from './metrics';

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

export async function startMetricsServer(opts: {
  metrics: Metrics;
  host: string;
  port: number;
  /** The SDK's Prometheus exporter, e.g. http://127.0.0.1:9465/metrics. */
  sdkMetricsUrl?: string;
}): Promise<MetricsServer> {
  const { registry } = opts.metrics;
  const sdkMetrics = async (): Promise<string> => {
    if (!opts.sdkMetricsUrl) return '';
    try {
      const res = await fetch(opts.sdkMetricsUrl, { signal: AbortSignal.timeout(2000) });
      return res.ok ? await res.text() : '';
    } catch {
      // The SDK exporter starts with the first Temporal connection; until then there is nothing to add.
      return '';
    }
  };
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    Promise.all([registry.metrics(), sdkMetrics()]).then(
      ([own, sdk]) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(sdk ? `${own}\n${sdk}` : own);
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err instanceof Error ? err.name : 'error'}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
