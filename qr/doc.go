// Package qr shows KC1 frames (package transport) as QR codes drawn in a
// terminal and reads them back from images.
//
// Sending: [Fit] picks the QR version, quiet zone and hence the fragment
// size from the window size and a density preset (Low v7, Normal v12,
// High v25; ECC L); [Layout.Encode] cuts a message into a
// [transport.FrameSequence] whose every frame fits that version; and
// [Layout.Render] draws one frame with github.com/mdp/qrterminal/v3 as half
// blocks in explicit white on an explicit black background, so that the
// code scans on dark and light terminal themes alike (qr-transport.md
// section 8), or as full blocks for the Linux console. A [Player] steps
// through the frames at a frame rate or by hand; it keeps no clock.
//
// Receiving: [DecodeImage] and [DecodeFile] read a code from a screenshot
// or photo with gozxing; the caller feeds the text to a
// [transport.Receiver].
//
// The package never prints and never exits.
package qr
