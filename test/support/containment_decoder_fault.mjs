// Preloaded into every thread of a waitfree process (`node --import`, containment_launch.ts):
// makes the protocol decoder throw an error that is NOT its own JuteError, as a decoder bug
// would, when a decoded string holds DECODER_FAULT_MARKER. The shard decodes client strings
// (paths) with a TextDecoder, so a request whose path holds the marker reaches this throw inside
// JuteReader.readUString, from the shard's containment boundary (onClientFrame).
//
// Nothing else in the server decodes the marker: the request never gets past decoding, so no
// txn, log record or reply ever holds it.

export const DECODER_FAULT_MARKER = 'containment-inject-decoder-bug';
export const DECODER_FAULT_MESSAGE = 'injected decoder fault (test/support/containment_decoder_fault.mjs)';

const decode = TextDecoder.prototype.decode;
TextDecoder.prototype.decode = function decodeWithFault(input, options) {
  const s = decode.call(this, input, options);
  if (s.includes(DECODER_FAULT_MARKER)) throw new TypeError(DECODER_FAULT_MESSAGE);
  return s;
};
