import { timingSafeEqual } from 'node:crypto';
import type express from 'express';
import { tokenHash } from '../config.js';
import type { Logger } from '../logger.js';
import { ServiceError } from './errors.js';

/**
 * The audit API's own credential (issue #13 §3), apart from the CDS clients' JWTs: a bearer token whose
 * SHA-256 equals one configured in CDS_REVIEWER_TOKENS. Hashing first gives every comparison the same
 * length, and timingSafeEqual against every configured hash (no early exit) keeps the time of a refusal
 * from telling how close a guess was. A CDS client's JWT is just another wrong token here.
 * Every refusal and every access is logged (CRD found-38: access to the record is itself recorded), with
 * the route and a short fingerprint of the token used, never the token.
 * @param tokenHashes - SHA-256 of each reviewer token
 * @param logger - where refusals and accesses go
 */
export function reviewerAuth(tokenHashes: readonly Buffer[], logger: Logger): express.RequestHandler {
  return (req, _res, next) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    const token = match?.[1];
    const route = req.baseUrl + (req.path === '/' ? '' : req.path.replace(/\/(assertions|determinations)\/.+/, '/$1/:id'));
    if (token === undefined) {
      logger.warn({ event: 'unauthorized', reason: 'reviewer-token-missing', route }, 'audit API refused: no reviewer token');
      throw new ServiceError('REVIEWER_UNAUTHORIZED');
    }
    const presented = tokenHash(token);
    let matched = false;
    for (const hash of tokenHashes) {
      // The comparison stands first, so it runs for every configured hash whatever matched before.
      matched = timingSafeEqual(presented, hash) || matched;
    }
    if (!matched) {
      logger.warn({ event: 'unauthorized', reason: 'reviewer-token-invalid', route }, 'audit API refused: not a reviewer token');
      throw new ServiceError('REVIEWER_UNAUTHORIZED');
    }
    logger.info({ event: 'audit-access', route, reviewer: presented.toString('hex').slice(0, 8) }, 'reviewer read the record');
    next();
  };
}
