import { resolve } from 'node:path';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { PACKAGE_ROOT } from './config.js';
import { DOCS_CSP } from './security.js';

export const PUBLIC_DIR = resolve(PACKAGE_ROOT, 'public');

/** The docs page and its script and stylesheet, all local: no CDN, so it works offline and under a strict CSP. */
export function docsRouter(): Router {
  const router = Router();
  const relaxCsp = (_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Content-Security-Policy', DOCS_CSP);
    res.setHeader('Cache-Control', 'no-cache');
    next();
  };
  router.get('/docs', relaxCsp, (_req, res) => res.sendFile(resolve(PUBLIC_DIR, 'docs.html')));
  router.use(
    '/docs/assets',
    relaxCsp,
    express.static(resolve(PUBLIC_DIR, 'assets'), { index: false, fallthrough: true }),
  );
  return router;
}
