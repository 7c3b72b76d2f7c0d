/**
 * A Grafana HTTP API in memory, answering as Grafana documents its data source and dashboard APIs (Grafana 10, "Data
 * source API", "Dashboard API"): bearer tokens (401 "Invalid API key" otherwise), GET /api/datasources/uid/:uid (404
 * "Data source not found"), POST /api/datasources (409 on a taken name or uid), PUT /api/datasources/uid/:uid,
 * POST /api/dashboards/db (400 without a title, 412 for an existing uid without overwrite, versions on overwrite).
 */
import * as http from 'node:http';

/* eslint-disable @typescript-eslint/no-explicit-any */

export class FakeGrafana {
  readonly validTokens = new Set<string>();
  readonly dataSources = new Map<string, any>();
  readonly dashboards = new Map<string, any>();
  readonly requests: Array<{ method: string; path: string; body?: any }> = [];
  private nextId = 1;
  server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      const body = text ? JSON.parse(text) : undefined;
      this.requests.push({ method: req.method!, path: req.url!, body });
      const [status, answer] = this.answer(req.method!, req.url!, String(req.headers.authorization ?? ''), body);
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(answer));
    });
  });

  private answer(method: string, url: string, authorization: string, body: any): [number, unknown] {
    if (!this.validTokens.has(authorization.replace(/^Bearer /, ''))) return [401, { message: 'Invalid API key' }];
    const byUid = url.match(/^\/api\/datasources\/uid\/([^/]+)$/);
    if (byUid && method === 'GET') {
      const found = this.dataSources.get(decodeURIComponent(byUid[1]));
      return found ? [200, found] : [404, { message: 'Data source not found' }];
    }
    if (url === '/api/datasources' && method === 'POST') {
      if ([...this.dataSources.values()].some((d) => d.name === body.name || d.uid === body.uid)) return [409, { message: 'data source with the same name already exists' }];
      const datasource = { ...body, id: this.nextId++, orgId: 1, version: 1 };
      this.dataSources.set(body.uid, datasource);
      return [200, { datasource, id: datasource.id, message: 'Datasource added', name: body.name }];
    }
    if (byUid && method === 'PUT') {
      const found = this.dataSources.get(decodeURIComponent(byUid[1]));
      if (!found) return [404, { message: 'Data source not found' }];
      const datasource = { ...found, ...body, version: found.version + 1 };
      this.dataSources.set(found.uid, datasource);
      return [200, { datasource, id: found.id, message: 'Datasource updated', name: body.name }];
    }
    if (url === '/api/dashboards/db' && method === 'POST') {
      const dashboard = body.dashboard;
      if (!dashboard?.title) return [400, { message: 'Dashboard title cannot be empty' }];
      const existing = this.dashboards.get(dashboard.uid);
      if (existing && !body.overwrite) return [412, { status: 'name-exists', message: 'A dashboard with the same uid already exists' }];
      if (dashboard.id !== null && dashboard.id !== undefined && dashboard.id !== existing?.id) return [404, { status: 'not-found', message: 'Dashboard not found' }];
      const saved = { ...dashboard, id: existing?.id ?? this.nextId++, version: (existing?.version ?? 0) + 1 };
      this.dashboards.set(dashboard.uid, saved);
      const slug = String(dashboard.title).toLowerCase().replace(/[^a-z0-9]+/g, '-');
      return [200, { id: saved.id, uid: dashboard.uid, url: `/d/${dashboard.uid}/${slug}`, status: 'success', version: saved.version, slug }];
    }
    return [404, { message: 'Not found' }];
  }
}

