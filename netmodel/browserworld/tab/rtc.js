// WebRTC glue for the tab program (tab.wasm). Promise chains are awkward
// from Go, so each step is one function returning a promise. ICE is not
// trickled: a description is sent once gathering is complete, so the
// signaling server relays one offer and one answer per connection. Each
// pair of tabs shares one negotiated datachannel (id 0, no DCEP) in the
// scenario's mode, which opens on both ends once the connection is up.
"use strict";
window.raftsimRTC = {
  // newPeer: conf is { ordered, maxRetransmits, maxPacketLifeTime (each
  // unset: no limit), relay: { url, username, credential } or unset }.
  // With a relay the connection uses only its relayed candidates, so
  // every packet passes through the harness's TURN server.
  newPeer(conf) {
    const rtc = { iceServers: [] };
    if (conf.relay) {
      rtc.iceServers = [{ urls: conf.relay.url, username: conf.relay.username, credential: conf.relay.credential }];
      rtc.iceTransportPolicy = "relay";
    }
    const pc = new RTCPeerConnection(rtc);
    const init = { negotiated: true, id: 0, ordered: conf.ordered };
    if (conf.maxRetransmits !== undefined) init.maxRetransmits = conf.maxRetransmits;
    if (conf.maxPacketLifeTime !== undefined) init.maxPacketLifeTime = conf.maxPacketLifeTime;
    const dc = pc.createDataChannel("raft", init);
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
