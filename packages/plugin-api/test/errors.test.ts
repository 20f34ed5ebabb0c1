import t from 'tap';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as api from '@enginegate/plugin-api';
import {
  AmbiguousContainerError,
  ContainerNotFoundError,
  ERROR_CODES,
  EngineGateError,
  EngineUnavailableError,
  InternalError,
  InvalidArgumentError,
  LogsUnsupportedError,
  errorText,
  hasErrorCode,
  isEngineGateError,
  isErrorCode,
} from '@enginegate/plugin-api';

t.test('every code has its HTTP status, and each class carries its code and status', async (t) => {
  t.same(
    Object.entries(ERROR_CODES).filter(([code]) =>
      [
        'INVALID_ARGUMENT',
        'CONTAINER_NOT_FOUND',
        'AMBIGUOUS_CONTAINER',
        'LOGS_UNSUPPORTED',
        'ENGINE_UNAVAILABLE',
        'INTERNAL',
      ].includes(code),
    ),
    [
      ['INVALID_ARGUMENT', 400],
      ['CONTAINER_NOT_FOUND', 404],
      ['AMBIGUOUS_CONTAINER', 409],
      ['INTERNAL', 500],
      ['LOGS_UNSUPPORTED', 501],
      ['ENGINE_UNAVAILABLE', 503],
    ],
  );
  const cases: Array<[EngineGateError, string, number]> = [
    [new InvalidArgumentError('tail', 'bad tail'), 'INVALID_ARGUMENT', 400],
    [new ContainerNotFoundError('web'), 'CONTAINER_NOT_FOUND', 404],
    [new AmbiguousContainerError('ab', ['abc', 'abd']), 'AMBIGUOUS_CONTAINER', 409],
    [new LogsUnsupportedError('write-only'), 'LOGS_UNSUPPORTED', 501],
    [new EngineUnavailableError('down'), 'ENGINE_UNAVAILABLE', 503],
    [new InternalError('bug'), 'INTERNAL', 500],
    [new EngineGateError('TOO_MANY_STREAMS', 'full', { retryAfterSeconds: 5 }), 'TOO_MANY_STREAMS', 503],
    [new EngineGateError('FORBIDDEN', 'origin'), 'FORBIDDEN', 403],
  ];
  for (const [err, code, status] of cases) {
    t.equal(err.code, code, `${err.name}: code`);
    t.equal(err.statusCode, status, `${err.name}: status`);
    t.ok(isEngineGateError(err), `${err.name}: recognised`);
    t.ok(err instanceof Error && err instanceof EngineGateError);
    t.same(err.toJSON(), { code, message: err.message });
  }
  t.equal(new ContainerNotFoundError('web').message, 'no such container: web');
  t.equal(new EngineUnavailableError('down').retryAfterSeconds, 2, 'a 503 says when to retry');
  t.equal(new EngineUnavailableError('down', { retryAfterSeconds: 7 }).retryAfterSeconds, 7);
  t.equal(new InvalidArgumentError('tail', 'x').parameter, 'tail');
  t.same(new AmbiguousContainerError('ab', ['abc', 'abd']).candidates, ['abc', 'abd']);
  const cause = new Error('socket');
  t.equal(new InternalError('wrapped', { cause }).cause, cause);
});

t.test('only branded errors with a listed code are recognised', async (t) => {
  const lookalike = Object.assign(new Error('not ours'), { code: 'CONTAINER_NOT_FOUND', statusCode: 404 });
  t.notOk(isEngineGateError(lookalike), 'a code alone is not enough: the brand is what the gateway trusts');
  t.notOk(isEngineGateError(Object.assign(new Error('x'), { code: 'ENOENT' })));
  t.notOk(isEngineGateError(null));
  t.notOk(isEngineGateError('CONTAINER_NOT_FOUND'));
  t.ok(hasErrorCode(new EngineUnavailableError('x'), 'ENGINE_UNAVAILABLE'));
  t.notOk(hasErrorCode(new EngineUnavailableError('x'), 'INTERNAL'));
  t.ok(isErrorCode('TOO_MANY_STREAMS'));
  t.notOk(isErrorCode('toString'), 'not a property of Object.prototype');
  t.equal(errorText(new Error('m')), 'm');
  t.equal(errorText('plain'), 'plain');
  t.equal(errorText(undefined), 'undefined');
});

t.test('errors from a second copy of plugin-api are recognised by brand and code', async (t) => {
  // A plugin installed with its own plugin-api: a copy of the built package at another path.
  const dir = mkdtempSync(join(tmpdir(), 'plugin-api-copy-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const dist = fileURLToPath(new URL('../dist/', import.meta.url));
  cpSync(dist, dir, { recursive: true });
  const copy = (await import(pathToFileURL(join(dir, 'index.js')).href)) as typeof api;
  t.not(copy.ContainerNotFoundError, ContainerNotFoundError, 'a different class');

  const theirs = new copy.ContainerNotFoundError('web');
  t.notOk(theirs instanceof ContainerNotFoundError, 'instanceof would miss it');
  t.ok(isEngineGateError(theirs), 'this copy recognises the other copy');
  t.equal(theirs.code, 'CONTAINER_NOT_FOUND');
  t.ok(hasErrorCode(new copy.EngineUnavailableError('down'), 'ENGINE_UNAVAILABLE'));
  t.ok(copy.isEngineGateError(new AmbiguousContainerError('a', ['ab', 'ac'])), 'and the other way round');
});
