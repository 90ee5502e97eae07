// Package transcode holds end-to-end tests of the ffmpeg transcoder
// (app/audio/ffmpeg) and its filter table: every container the test audio
// host serves goes through ffmpeg, and what comes out is checked by ear with
// audiocheck — the tone, where a seek lands, what each filter does to the
// frequency and level. It has no code of its own.
package transcode
