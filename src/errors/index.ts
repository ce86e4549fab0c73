export {
  BUG_REPORT,
  CATALOGUE,
  isErrorCode,
  USAGE_EXIT_STATUS,
  type CatalogueEntry,
  type ErrorCode,
  type ExitStatus,
} from "./catalogue.js";
export {
  exitStatus,
  internalError,
  isInternal,
  isPolypackError,
  PolypackError,
  type PolypackErrorOptions,
} from "./polypack-error.js";
