// The public face of the wire layer: the other layers import only from here.
export { StatusCode, isStatusCode, statusCodeName, parseStatusCode, type GrpcStatus } from "./status.js";
export { encodeStatusMessage, decodeStatusMessage } from "./status-message.js";
export { encodeTimeout, parseTimeout } from "./timeout.js";
export { Metadata, isReservedHeader, type MetadataValue, type MetadataInit } from "./metadata.js";
export { FRAME_HEADER_LENGTH, frameMessage, frameHeader, takeFrame, MessageDecoder, type MessageDecoderOptions } from "./framing.js";
export { protobufEncoder } from "./protobuf-encoder.js";
export { protobufDecoder } from "./protobuf-decoder.js";
export { RpcError, type RpcErrorOptions } from "./rpc-error.js";
export { BaseError, UsageError, InternalError } from "./errors.js";
export { EOF } from "./eof.js";
export { isGrpcContentType } from "./content-type.js";
export { memberName, type MemberName } from "./member-name.js";
export { httpStatusToCode, http2ErrorCodeToStatus, http2ErrorCodeName, Http2ErrorCode } from "./http-status.js";
export {
  identity,
  gzip,
  deflate,
  getCompressor,
  parseEncodingList,
  SUPPORTED_ENCODINGS,
  ACCEPT_ENCODING_HEADER,
  type Compressor,
} from "./compression.js";
