/**
 * Call recording (issue 6 "Recording"): the built-in stereo WAV recorder fed by the relay's media tap, and the
 * signed pause/resume webhooks for external recorders.
 */
export { ChannelTimeline } from './channel-timeline.ts';
export { StereoRing, type RingChannel } from './stereo-ring.ts';
export { WavStreamWriter, type WavStreamWriterOptions } from './wav-stream-writer.ts';
export {
  CallRecorder, RECORDING_SAMPLE_RATE,
  type CallRecorderOptions, type RecordingMetadata, type RecordingPause, type SecureSpanInFile, type SecureSpanRecording,
} from './call-recorder.ts';
export { Recorder, type RecorderOptions, type RecorderStats } from './recorder.ts';
export {
  RecorderWebhooks,
  type RecorderWebhookStats, type RecorderWebhookTarget, type RecorderWebhooksOptions, type RecordingWebhookEvent,
} from './recorder-webhooks.ts';
export { recordingFromConfig, type CallRecording } from './recording-from-config.ts';
export { RecordingMetadataSchema, registerRecordingRoutes } from './http-routes.ts';
