// WebRTC glue for the tab program (tab.wasm). Promise chains are awkward
// from Go, so each step is one function returning a promise. ICE is not
// trickled: a description is sent once gathering is complete, so the
// signaling server relays one offer and one answer per connection. Each
// pair of tabs shares one negotiated datachannel (id 0, no DCEP), ordered
// and reliable, which opens on both ends once the connection is up.
"use strict";
window.raftsimRTC = {
  newPeer() {
    const pc = new RTCPeerConnection({ iceServers: [] });
    const dc = pc.createDataChannel("raft", { negotiated: true, id: 0, ordered: true });
    dc.binaryType = "arraybuffer";
    return { pc, dc };
  },
  gathered(pc) {
    return new Promise((resolve) => {
      if (pc.iceGatheringState === "complete") return resolve();
      pc.addEventListener("icegatheringstatechange", () => {
        if (pc.iceGatheringState === "complete") resolve();
      });
    });
  },
  async offer(pc) {
    await pc.setLocalDescription(await pc.createOffer());
    await this.gathered(pc);
    return pc.localDescription.sdp;
  },
  async answer(pc, sdp) {
    await pc.setRemoteDescription({ type: "offer", sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    await this.gathered(pc);
    return pc.localDescription.sdp;
  },
  async accept(pc, sdp) {
    await pc.setRemoteDescription({ type: "answer", sdp });
    return "";
  },
};
