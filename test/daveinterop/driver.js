// Drives @snazzah/davey sessions for the Go interop tests. One JSON request
// per line on stdin, one JSON response per line on stdout. Binary values are
// hex strings. Sessions are addressed by the user ID they belong to.
'use strict';

const readline = require('node:readline');
const davey = require('@snazzah/davey');

const sessions = new Map();

function session(userId) {
  const s = sessions.get(userId);
  if (!s) throw new Error(`no session for ${userId}`);
  return s;
}

const hex = (b) => (b ? Buffer.from(b).toString('hex') : null);
const buf = (h) => Buffer.from(h || '', 'hex');

const commands = {
  version: () => ({ version: davey.VERSION, protocol: davey.DAVE_PROTOCOL_VERSION }),
  create: (r) => {
    sessions.set(r.userId, new davey.DAVESession(r.protocolVersion, r.userId, r.channelId));
    return {};
  },
  reinit: (r) => {
    session(r.userId).reinit(r.protocolVersion, r.userId, r.channelId);
    return {};
  },
  setExternalSender: (r) => {
    session(r.userId).setExternalSender(buf(r.data));
    return {};
  },
  keyPackage: (r) => ({ data: hex(session(r.userId).getSerializedKeyPackage()) }),
  processProposals: (r) => {
    const res = session(r.userId).processProposals(r.operation, buf(r.data), r.recognizedUserIds);
    return { commit: hex(res.commit), welcome: hex(res.welcome) };
  },
  processCommit: (r) => {
    session(r.userId).processCommit(buf(r.data));
    return {};
  },
  processWelcome: (r) => {
    session(r.userId).processWelcome(buf(r.data));
    return {};
  },
  setPassthroughMode: (r) => {
    session(r.userId).setPassthroughMode(r.on, r.expiry);
    return {};
  },
  state: (r) => {
    const s = session(r.userId);
    return {
      epoch: s.epoch === null ? null : Number(s.epoch),
      ready: s.ready,
      status: s.status,
      epochAuthenticator: hex(s.getEpochAuthenticator()),
      privacyCode: s.voicePrivacyCode,
      userIds: s.getUserIds(),
    };
  },
  encryptOpus: (r) => ({ data: hex(session(r.userId).encryptOpus(buf(r.data))) }),
  decrypt: (r) => ({ data: hex(session(r.userId).decrypt(r.from, davey.MediaType.AUDIO, buf(r.data))) }),
  displayableCode: (r) => ({ code: davey.generateDisplayableCode(buf(r.data), r.length, r.groupSize) }),
};

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  let out;
  try {
    const req = JSON.parse(line);
    const cmd = commands[req.cmd];
    if (!cmd) throw new Error(`unknown command ${req.cmd}`);
    out = cmd(req);
  } catch (err) {
    out = { error: String(err && err.message ? err.message : err) };
  }
  process.stdout.write(JSON.stringify(out) + '\n');
});
