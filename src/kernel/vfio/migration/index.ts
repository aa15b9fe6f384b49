/**
 * VFIO migration uAPI v2 (facts/kernel.md §1): the next-step table and stepper, the data streams and
 * the VFIO_DEVICE_FEATURE handlers for MIGRATION, MIG_DEVICE_STATE and MIG_DATA_SIZE.
 */
export { ChunkQueue } from './chunk-queue.js';
export {
  type FeatureContext,
  type FeatureHandler,
  type FeatureReply,
  migrationFeatureHandlers,
  VfioFeatureCopyBackError,
} from './migration-features.js';
export {
  type ArcResult,
  isMigrationSetStateError,
  type MigrationDriver,
  MigrationFsm,
  type MigrationFsmOptions,
  MigrationSetStateError,
  type SetStateOutcome,
} from './migration-fsm.js';
export {
  MigrationStream,
  type MigrationStreamHost,
  type ResumingSink,
  type SavingSource,
} from './migration-stream.js';
export {
  isMigState,
  type NextStateResult,
  nextState,
  type SessionKind,
  sessionOf,
  stateSupported,
} from './next-state.js';
