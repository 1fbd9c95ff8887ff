/**
 * The vocabulary of the generated package summaries and names
 * (bench/index/generate.ts draws from it with Zipf-like frequencies, in this
 * order: the first words are the most frequent). Lower-case letters only, so
 * that a search for one of them means the same to a regex search (pacman,
 * apt-cache) and a substring search (kiln).
 */
const TEXT = `
library tool for the and with support command line utility data file files system
server client daemon plugin module interface network extension python format based
simple fast small development bindings framework service manager shared config
configuration tools package test testing parser protocol documentation graphical
library's driver images image audio video text web http secure user users terminal
display font fonts desktop kernel memory process processes storage database query
stream streams archive compression encryption signing keys certificate password
monitor monitoring logging logs metrics build builder compiler runtime virtual
machine container cluster cloud remote local backup restore sync mirror proxy cache
queue scheduler timer event events message messages mail email chat editor viewer
browser reader writer converter generator scanner checker validator formatter
renderer player recorder mixer codec camera printer input output device devices
hardware firmware sensor power battery wireless bluetooth serial usb graphics opengl
vulkan shader shell script scripts scripting language interpreter virtualenv
packaging installer updater launcher wrapper helper helpers collection common core
extra extras base minimal full lightweight portable modern classic legacy
experimental stable generic standard advanced basic unicode locale translation
translations spell dictionary thesaurus grammar calendar contacts notes todo tasks
clock weather maps geographic location navigation game games puzzle arcade strategy
emulator sound music radio podcast streaming television photo gallery thumbnail
icons theme themes cursor wallpaper window windows panel widget widgets toolkit
layout markup markdown latex typesetting spreadsheet presentation office invoice
accounting finance budget statistics math mathematics algebra numerical solver
optimization linear matrix vector tensor neural learning science scientific
chemistry physics astronomy biology genome sequence alignment molecular simulation
visualization plotting chart charts diagram drawing vector raster pixel color
palette filter filters effects animation modeling rendering raytracer engine
physics collision particle terrain texture textures mesh geometry polygon curve
spline interpolation sampling signal frequency spectrum waveform synthesizer midi
notation score lyrics karaoke subtitle subtitles caption transcoding encoder decoder
muxer demuxer container metadata tagging catalog index indexing search searching
lookup resolver address routing firewall tunnel bridge switch gateway packet
capture sniffer analyzer benchmark profiler debugger tracer inspector coverage
linter sanitizer fuzzer mock fixture assertion runner harness continuous
integration deployment provisioning orchestration inventory ansible puppet recipe
cookbook template templates snippet snippets completion highlighting indentation
refactoring navigation outline folding bookmark bookmarks history clipboard
screenshot screencast recording whiteboard annotation comment comments review
patch patches diff merge version versioning repository branch commit blame bisect
tracker issue ticket workflow pipeline job jobs batch cron periodic daily report
reports dashboard summary overview status health probe alert alerts notification
notifications pager escalation incident audit compliance policy policies access
control permission permissions role roles identity authentication authorization
token tokens session sessions cookie cookies header headers request response
socket sockets endpoint endpoints router middleware handler handlers controller
view views model models schema schemas migration migrations seed fixtures record
records table tables column columns row rows cursor transaction transactions lock
locks mutex semaphore thread threads coroutine async await future promise channel
channels actor actors reactive observable binding widgetset canvas surface buffer
buffers framebuffer compositor wayland xorg keyboard mouse touchpad joystick gamepad
tablet stylus gesture accessibility braille magnifier narrator speech voice
dictation recognition ocr barcode qrcode scanner fax modem telephony voip sip
conference meeting webcam microphone speaker headphone equalizer loudness
normalizer resampler dither ambisonic spatial reverb delay chorus flanger phaser
distortion compressor limiter gate expander tuner metronome sequencer tracker
sampler drum bass guitar piano organ violin orchestra choir ensemble concert
festival ticketing booking reservation inventory warehouse shipping logistics
delivery courier parcel postage stamp label labels printing barcode receipt
`;

export const WORDS: readonly string[] = [...new Set(TEXT.split(/\s+/).filter((word) => /^[a-z]+$/.test(word)))];
