// pcap capture: a writer for classic pcap files, a tap that records any FrameDevice, a reader,
// and a merge of several captures into one.
export { PcapWriter, type PcapWriterOptions } from './pcap-writer.js';
export { PcapTap, type PcapTapOptions } from './pcap-tap.js';
export { readPcap, type PcapFile, type PcapRecord } from './pcap-reader.js';
export { mergePcapFiles } from './pcap-merge.js';
export { CaptureFiles } from './capture-files.js';
export { LINKTYPE_ETHERNET, PCAP_MAGIC_MICROS, PCAP_MAGIC_NANOS } from './pcap-format.js';
