/* synack trace page: draws the embedded trace model (tools/html.c writes it as JSON into
 * #trace-data) as a ladder and a tcptrace-style time-sequence graph, both SVG, with zoom and
 * pan, a step-through of the segments and, for synack's own runs, the sender's cwnd,
 * ssthresh, SRTT and RTO. No library, nothing fetched: it runs from file://. */
(function () {
  'use strict';
  var SVGNS = 'http://www.w3.org/2000/svg';
  var MAX_DRAWN = 20000; /* segments drawn per view at most (the C side caps the data too) */

  var WORDS = {
    en: {
      connection: 'Connection', prev: '\u25c0 Previous', next: 'Next \u25b6', zoomIn: 'Zoom in',
      zoomOut: 'Zoom out', reset: 'Reset view',
      keys: '\u2190 \u2192 step \u00b7 + \u2212 zoom \u00b7 0 reset \u00b7 Shift+arrows pan \u00b7 wheel zooms, drag pans',
      ladder: 'Ladder diagram', stepTitle: 'Step through', notes: 'Notes',
      tsg: 'Time-sequence graph', direction: 'Data sent by',
      senderTitle: 'What the sender knew (synack\u2019s own run)',
      cwnd: 'congestion window cwnd', ssthresh: 'slow-start threshold ssthresh',
      srtt: 'smoothed round-trip time SRTT', rto: 'retransmission timeout RTO',
      data: 'data segment', rtx: 'retransmission', lost: 'lost', ackLine: 'ACK line',
      winLine: 'receive window (ACK + window)', sackBlocks: 'SACK blocks',
      timeS: 'time (s)', relSeq: 'relative sequence number', bytes: 'bytes', ms: 'ms',
      noConns: 'No TCP connection in this trace.', noSegs: 'No segment in this connection.',
      segOf: 'segment {0} of {1}', at: 'at', flags: 'flags', seq: 'seq', ack: 'ack',
      len: 'length', win: 'window', opts: 'options', sack: 'SACK', state: 'state',
      before: 'before', after: 'after', unchanged: 'unchanged', whyLeft: 'why it left',
      sender: 'sender', rel: 'relative', abs: 'absolute', lostOnLink: 'lost on the link (never arrived)',
      omitted: '{0} segments of this connection are not drawn (the page shows the first {1}).',
      connsOmitted: '{0} connections were left out (too many).',
      oom: 'Memory ran out while recording: the trace has gaps.',
      handshake: 'Three-way handshake', transfer: 'Data transfer', close: 'Four-way close',
      halfClose: 'Half-close: one side has sent its FIN, the other may still send',
      rstPhase: 'Connection reset (RST)', ended: 'ended', source: 'source', explain: 'explanation',
      nothing: 'nothing notable', sentBy: '{0} \u2192 {1}',
      why: {
        'syn': 'opening SYN: the application called connect()',
        'synack': 'SYN|ACK answering the peer\u2019s SYN',
        'new-data': 'new data the application wrote',
        'fin': 'FIN: the application closed its sending side',
        'rto': 'retransmission: the retransmission timer (RTO) expired',
        'fast-retransmit': 'fast retransmit: three duplicate ACKs',
        'recovery': 'retransmission during loss recovery (SACK / NewReno)',
        'retransmit': 'retransmission (going on after a timeout, or a smaller path MTU)',
        'tail-loss-probe': 'tail loss probe (RFC 8985)',
        'window-probe': 'zero-window probe: the peer\u2019s window is shut',
        'keepalive': 'keep-alive probe: the connection was idle',
        'ack': 'ACK sent at once for what arrived',
        'delayed-ack': 'delayed ACK: the delayed-ACK timer expired',
        'window-update': 'window update: the application read, the window opened',
        'challenge-ack': 'challenge ACK (RFC 5961): answers a suspicious RST or SYN',
        'rst-no-connection': 'RST: no such connection (or nobody listens on the port)',
        'rst-bad-ack': 'RST: unacceptable ACK during the handshake',
        'rst-abort': 'RST: the application aborted the connection',
        'rst-after-close': 'RST: data arrived after the application closed',
        'rst-syn': 'RST: a SYN arrived inside the window',
        'pmtu-probe': 'path MTU probe: a larger segment (RFC 4821)'
      }
    },
    zh: {
      connection: '连接', prev: '\u25c0 上一个', next: '下一个 \u25b6', zoomIn: '放大', zoomOut: '缩小',
      reset: '复位视图',
      keys: '\u2190 \u2192 单步 \u00b7 + \u2212 缩放 \u00b7 0 复位 \u00b7 Shift+方向键 平移 \u00b7 滚轮缩放，拖动平移',
      ladder: '报文交互时序图（梯形图）', stepTitle: '单步讲解', notes: '注释',
      tsg: '时间-序号图（tcptrace 风格）', direction: '数据发送方',
      senderTitle: '发送方的内部状态（synack 自己的运行）',
      cwnd: '拥塞窗口 cwnd', ssthresh: '慢启动阈值 ssthresh', srtt: '平滑往返时间 SRTT',
      rto: '重传超时 RTO', data: '数据报文段', rtx: '重传', lost: '丢失', ackLine: '确认号（ACK）线',
      winLine: '接收窗口（确认号 + 窗口）', sackBlocks: 'SACK 块', timeS: '时间（秒）',
      relSeq: '相对序号', bytes: '字节', ms: '毫秒',
      noConns: '这个跟踪中没有 TCP 连接。', noSegs: '这个连接没有报文段。',
      segOf: '第 {0} 个报文段，共 {1} 个', at: '时间', flags: '标志位', seq: '序号', ack: '确认号',
      len: '长度', win: '窗口', opts: '选项', sack: 'SACK', state: '状态', before: '之前',
      after: '之后', unchanged: '不变', whyLeft: '发送原因', sender: '发送方', rel: '相对',
      abs: '绝对', lostOnLink: '在链路上丢失（没有到达）',
      omitted: '这个连接有 {0} 个报文段没有画出（页面只显示前 {1} 个）。',
      connsOmitted: '有 {0} 个连接没有记录（太多）。', oom: '记录时内存不足：跟踪不完整。',
      handshake: '三次握手', transfer: '数据传输', close: '四次挥手',
      halfClose: '半关闭：一方已发送 FIN，另一方仍可发送数据', rstPhase: '连接复位（RST）',
      ended: '结束方式', source: '来源', explain: '解释', nothing: '没有特别之处',
      sentBy: '{0} \u2192 {1}',
      why: {
        'syn': '发起连接的 SYN：应用调用了 connect()',
        'synack': '回应对方 SYN 的 SYN|ACK',
        'new-data': '应用写入的新数据',
        'fin': 'FIN：应用关闭了发送方向',
        'rto': '重传：重传定时器（RTO）超时',
        'fast-retransmit': '快速重传：收到三个重复确认',
        'recovery': '丢包恢复中的重传（SACK / NewReno）',
        'retransmit': '重传（超时后继续重传，或路径 MTU 变小）',
        'tail-loss-probe': '尾部丢失探测（TLP，RFC 8985）',
        'window-probe': '零窗口探测：对方窗口为零',
        'keepalive': '保活探测：连接空闲',
        'ack': '立即确认收到的数据',
        'delayed-ack': '延迟确认：延迟确认定时器到期',
        'window-update': '窗口更新：应用读取了数据，窗口打开',
        'challenge-ack': '挑战确认（RFC 5961）：回应可疑的 RST 或 SYN',
        'rst-no-connection': 'RST：没有这个连接（或端口没有监听）',
        'rst-bad-ack': 'RST：握手期间收到不可接受的确认号',
        'rst-abort': 'RST：应用中止了连接',
        'rst-after-close': 'RST：应用关闭后又收到数据',
        'rst-syn': 'RST：窗口内收到 SYN',
        'pmtu-probe': '路径 MTU 探测：更大的报文段（RFC 4821）'
      }
    }
  };

  function endpoint(a, p) { return (a.indexOf(':') >= 0 ? '[' + a + ']' : a) + ':' + p; }

  /* The embedded model is `synack trace --json`'s document (docs/trace.md); the drawing below
   * reads a compact form of it, made here once. */
  function normalize(doc, lim) {
    var out = { lang: doc.lang, source: doc.source, title: doc.title, oom: !!doc.incomplete,
                connsOmitted: lim.connsOmitted || 0, maxSegments: lim.maxSegments || 0, conns: [] };
    (doc.connections || []).forEach(function (c, k) {
      var info = c.info, ev = [];
      (c.events || []).forEach(function (e) {
        if (e.kind === 'seg') {
          var rk = e.rel_seq !== null && e.rel_seq !== undefined;
          var base = rk ? (e.ack - e.rel_ack) >>> 0 : 0;
          var notes = e.notes || [];
          ev.push({
            k: 'seg', i: e.index, s: e.from, t: e.t_us, f: e.flags, seq: e.seq, ack: e.ack,
            rk: rk, rs: rk ? e.rel_seq : 0, ra: rk ? e.rel_ack : 0, len: e.len,
            win: e.win_bytes, wr: e.win, o: e.opts || '',
            sack: (e.sack || []).map(function (b) {
              return rk ? [(b[0] - base) >>> 0, (b[1] - base) >>> 0] : b;
            }),
            sb: e.states_before, sa: e.states_after, lost: !!e.lost,
            nk: notes.map(function (n) { return n.code; }),
            notes: notes.map(function (n) { return n.text; }),
            snd: e.sender ? { cwnd: e.sender.cwnd, ssthresh: e.sender.ssthresh,
                              srtt: e.sender.srtt_us, rto: e.sender.rto_us, why: e.sender.why } : null
          });
        } else if (e.kind === 'state') {
          ev.push({ k: 'state', s: e.side, t: e.t_us, from: e.state_from, to: e.state_to });
        } else if (e.kind === 'note') {
          ev.push({ k: 'note', s: e.side, t: e.t_us, text: e.text });
        }
      });
      out.conns.push({ id: info.id, names: c.names, endText: c.end_text, bytes: info.bytes,
                       addr: [endpoint(info.addr[0], info.port[0]), endpoint(info.addr[1], info.port[1])],
                       ev: ev, omitted: (lim.omitted || [])[k] || 0 });
    });
    return out;
  }

  var data;
  try {
    data = normalize(JSON.parse(document.getElementById('trace-data').textContent),
                     JSON.parse(document.getElementById('trace-limits').textContent));
  } catch (e) {
    data = { lang: 'en', conns: [], title: '', source: '', bad: String(e) };
  }
  var W = WORDS[data.lang] || WORDS.en;

  function fmt(s) {
    var a = arguments;
    return s.replace(/\{(\d)\}/g, function (_, i) { return String(a[+i + 1]); });
  }
  function $(id) { return document.getElementById(id); }
  function el(name, attrs, parent, text) {
    var e = document.createElementNS(SVGNS, name);
    if (attrs) for (var k in attrs) if (attrs.hasOwnProperty(k)) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function hel(name, text, parent, cls) {
    var e = document.createElement(name);
    if (text !== undefined && text !== null) e.textContent = text;
    if (cls) e.className = cls;
    if (parent) parent.appendChild(e);
    return e;
  }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }
  function secs(us) { return (us / 1e6).toFixed(6); }
  function ms(us) { return (us / 1000).toFixed(1); }

  /* ---- state ---- */
  var conn = null;      /* the selected connection */
  var segs = [];        /* its segments, in order */
  var cur = -1;         /* the step: index in segs */
  var t0 = 0;
  var views = [];       /* pan/zoom views, for the buttons and keys */
  var dir = 0;          /* the time-sequence graph's data sender */

  /* ---- words on the page ---- */
  function applyWords() {
    var nodes = document.querySelectorAll('[data-w]');
    for (var i = 0; i < nodes.length; i++) {
      var w = W[nodes[i].getAttribute('data-w')];
      if (typeof w === 'string') nodes[i].textContent = w;
    }
    $('title').textContent = (data.title || 'synack') + (data.source ? ' \u2014 ' + W.source + ': ' + data.source : '');
  }

  function warn(text) { hel('div', text, $('warnings'), 'warn'); }

  /* ---- a pan/zoom view over an SVG: a domain [x0,x1] x [y0,y1] redrawn on change ---- */
  function View(svg, draw, full, opts) {
    var v = this;
    v.svg = svg; v.draw = draw; v.full = full; v.opts = opts || {};
    v.d = { x0: full.x0, x1: full.x1, y0: full.y0, y1: full.y1 };
    v.pending = false;
    svg.addEventListener('wheel', function (e) {
      e.preventDefault();
      var r = svg.getBoundingClientRect();
      var fx = (e.clientX - r.left) / Math.max(r.width, 1);
      var fy = (e.clientY - r.top) / Math.max(r.height, 1);
      v.zoom(e.deltaY < 0 ? 0.8 : 1.25, fx, fy);
    }, { passive: false });
    var drag = null;
    svg.addEventListener('mousedown', function (e) {
      if (e.button !== 0) return;
      drag = { x: e.clientX, y: e.clientY, d: { x0: v.d.x0, x1: v.d.x1, y0: v.d.y0, y1: v.d.y1 }, moved: false };
      svg.classList.add('dragging');
    });
    window.addEventListener('mousemove', function (e) {
      if (!drag) return;
      var r = svg.getBoundingClientRect();
      var dx = (e.clientX - drag.x) / Math.max(r.width, 1), dy = (e.clientY - drag.y) / Math.max(r.height, 1);
      if (Math.abs(e.clientX - drag.x) + Math.abs(e.clientY - drag.y) > 3) drag.moved = true;
      var w = drag.d.x1 - drag.d.x0, h = drag.d.y1 - drag.d.y0;
      v.d.x0 = drag.d.x0 - dx * w * (v.opts.lockX ? 0 : 1); v.d.x1 = v.d.x0 + w;
      var sy = v.opts.yDown ? -1 : 1;
      v.d.y0 = drag.d.y0 + sy * dy * h; v.d.y1 = v.d.y0 + h;
      v.update();
    });
    window.addEventListener('mouseup', function () {
      if (drag) { svg.classList.remove('dragging'); v.lastDragMoved = drag.moved; }
      drag = null;
    });
  }
  View.prototype.update = function () {
    var v = this;
    if (v.pending) return;
    v.pending = true;
    var run = function () { v.pending = false; v.draw(v.d); };
    if (window.requestAnimationFrame) window.requestAnimationFrame(run); else setTimeout(run, 16);
  };
  View.prototype.zoom = function (k, fx, fy) {
    var d = this.d;
    if (fx === undefined) { fx = 0.5; fy = 0.5; }
    if (this.opts.yDown) fy = fy; else fy = 1 - fy;
    var w = d.x1 - d.x0, h = d.y1 - d.y0;
    if (!this.opts.lockX) {
      var cx = d.x0 + fx * w;
      d.x0 = cx - (cx - d.x0) * k; d.x1 = d.x0 + w * k;
    }
    var cy = d.y0 + fy * h;
    d.y0 = cy - (cy - d.y0) * k; d.y1 = d.y0 + h * k;
    this.update();
  };
  View.prototype.pan = function (fx, fy) {
    var d = this.d, w = d.x1 - d.x0, h = d.y1 - d.y0;
    if (!this.opts.lockX) { d.x0 += fx * w; d.x1 += fx * w; }
    d.y0 += fy * h; d.y1 += fy * h;
    this.update();
  };
  View.prototype.reset = function () {
    var f = this.full;
    this.d = { x0: f.x0, x1: f.x1, y0: f.y0, y1: f.y1 };
    this.update();
  };
  /* Keeps y in view (the step's segment), moving the domain as little as possible. */
  View.prototype.show = function (y) {
    var d = this.d, h = d.y1 - d.y0;
    if (y < d.y0 + h * 0.1 || y > d.y1 - h * 0.1) {
      d.y0 = Math.max(this.full.y0, y - h / 3);
      d.y1 = d.y0 + h;
      this.update();
    }
  };

  function size(svg) {
    var r = svg.getBoundingClientRect();
    return { w: Math.max(r.width, 300), h: Math.max(r.height, 150) };
  }

  /* Tick values for [a, b]: about n of them, at 1, 2 or 5 times a power of ten. */
  function ticks(a, b, n) {
    var span = b - a;
    if (!(span > 0)) return [a];
    var step = Math.pow(10, Math.floor(Math.log(span / n) / Math.LN10));
    var err = span / n / step;
    if (err >= 5) step *= 5; else if (err >= 2) step *= 2;
    var out = [];
    for (var x = Math.ceil(a / step) * step; x <= b + step * 1e-9 && out.length < 50; x += step) out.push(x);
    return out;
  }

  /* ---- the ladder ---- */
  var ROW = 30;
  var ladderRows = []; /* {y, ev, seg index or -1} */
  var ladderView = null;
  var useTmStates = false;

  function buildRows() {
    ladderRows = [];
    useTmStates = false;
    var evs = conn ? conn.ev : [];
    for (var i = 0; i < evs.length; i++) if (evs[i].k === 'state') { useTmStates = true; break; }
    var y = 40, drawn = 0;
    for (var j = 0; j < evs.length; j++) {
      var e = evs[j];
      if (e.k === 'seg') {
        if (drawn >= MAX_DRAWN) continue;
        drawn++;
      }
      ladderRows.push({ y: y, ev: e });
      y += e.k === 'seg' ? ROW : 18;
    }
    return y + 20;
  }

  function segLabel(e) {
    var s = e.f + ' ';
    s += e.rk ? 'seq=' + e.rs + ' ack=' + e.ra : 'seq=' + e.seq + ' ack=' + e.ack;
    s += ' len=' + e.len + ' win=' + e.win;
    if (e.sack && e.sack.length) s += ' SACK ' + e.sack.map(function (b) { return b[0] + '-' + b[1]; }).join(',');
    return s;
  }
  function isRtx(e) {
    if (e.snd && /^(rto|fast-retransmit|recovery|retransmit|tail-loss-probe)$/.test(e.snd.why) &&
        (e.len > 0 || /SYN|FIN/.test(e.f))) return true;
    for (var i = 0; i < e.nk.length; i++)
      if (/retransmit/.test(e.nk[i]) && e.nk[i] !== 'spurious-retransmit') return true;
    return false;
  }

  function drawLadder(d) {
    var svg = $('ladder');
    clear(svg);
    var sz = size(svg);
    /* x: a fixed 1000-unit width scaled to the frame; y: rows, zoomable. */
    var sy = sz.h / (d.y1 - d.y0), sx = sz.w / 1000;
    var k = Math.min(Math.max(sy, 0.25), 4);
    svg.setAttribute('viewBox', '0 0 ' + sz.w + ' ' + sz.h);
    if (!conn) { el('text', { x: 20, y: 40, 'class': 'empty' }, svg, W.noConns); return; }
    var X0 = 240 * sx, X1 = 620 * sx, XN = 640 * sx;
    function Y(y) { return (y - d.y0) * sy; }
    var g = el('g', {}, svg);
    el('line', { x1: X0, y1: Y(20), x2: X0, y2: Math.max(Y(ladderHeight), sz.h), 'class': 'col' }, g);
    el('line', { x1: X1, y1: Y(20), x2: X1, y2: Math.max(Y(ladderHeight), sz.h), 'class': 'col' }, g);
    el('text', { x: X0, y: Math.max(Y(14), 12), 'text-anchor': 'middle', 'class': 'colhead' }, g,
       conn.names[0] + ' ' + conn.addr[0]);
    el('text', { x: X1, y: Math.max(Y(14), 12), 'text-anchor': 'middle', 'class': 'colhead' }, g,
       conn.names[1] + ' ' + conn.addr[1]);
    if (!segs.length) el('text', { x: 20, y: 60, 'class': 'empty' }, g, W.noSegs);
    var fs = Math.max(7, Math.min(11, 10.5 * k));
    for (var r = 0; r < ladderRows.length; r++) {
      var row = ladderRows[r], e = row.ev, y = Y(row.y);
      var visible = y > -ROW * sy && y < sz.h + ROW * sy;
      if (e.k === 'seg') {
        drawSegRow(g, e, y, X0, X1, XN, sy, fs, visible);
      } else if (visible) {
        drawSideRow(g, e, y, X0, X1, fs);
      }
    }
  }
  var ladderHeight = 100;

  function drawSegRow(g, e, y, X0, X1, XN, sy, fs, visible) {
    /* Every segment gets its element (the count is the segment count), drawn in full only
     * when it is on screen. */
    var cls = 'seg s' + e.s + (isRtx(e) ? ' rtx' : '') + (e.lost ? ' lost' : '') + (e.n === cur ? ' cur' : '');
    var sg = el('g', { 'class': cls, 'data-i': e.i }, g);
    if (!visible) return;
    var xa = e.s ? X1 : X0, xb = e.s ? X0 : X1;
    var y2 = y + ROW * sy * 0.75;
    el('rect', { x: 0, y: y - 12 * Math.min(sy, 1.5), width: XN + 400, height: ROW * sy, 'class': 'hl' }, sg);
    var xe = e.lost ? xa + (xb - xa) * 0.6 : xb, ye = e.lost ? y + (y2 - y) * 0.6 : y2;
    el('line', { x1: xa, y1: y, x2: xe, y2: ye }, sg);
    if (e.lost) {
      el('line', { x1: xe - 5, y1: ye - 5, x2: xe + 5, y2: ye + 5, 'class': 'lostx' }, sg);
      el('line', { x1: xe - 5, y1: ye + 5, x2: xe + 5, y2: ye - 5, 'class': 'lostx' }, sg);
    } else {
      var dx = xb > xa ? -8 : 8, slope = (y2 - y) / (xb - xa || 1);
      el('polygon', { points: xb + ',' + y2 + ' ' + (xb + dx) + ',' + (y2 + dx * slope - 3.5) + ' ' +
                      (xb + dx) + ',' + (y2 + dx * slope + 3.5) }, sg);
    }
    var lbl = el('text', { x: (X0 + X1) / 2, y: (y + y2) / 2 - 4, 'text-anchor': 'middle', 'class': 'lbl',
                           'font-size': fs }, sg, segLabel(e));
    lbl.setAttribute('transform', 'rotate(' + (Math.atan2(y2 - y, xb - xa) * 180 / Math.PI +
                     (xb < xa ? 180 : 0)) + ' ' + (X0 + X1) / 2 + ' ' + ((y + y2) / 2 - 4) + ')');
    el('text', { x: 6, y: y + 4, 'class': 'time' }, sg, secs(e.t - t0));
    if (!useTmStates) {
      for (var s = 0; s < 2; s++)
        if (e.sb[s] !== e.sa[s]) drawState(sg, s ? X1 : X0, y2 + 2, e.sa[s], s);
    }
    var words = e.notes.slice();
    if (e.snd && W.why[e.snd.why]) words.unshift('\u2192 ' + W.why[e.snd.why]);
    if (e.lost) words.unshift(W.lostOnLink);
    if (words.length) {
      el('text', { x: XN, y: y + 4, 'class': 'note', 'font-size': Math.max(fs - 0.5, 7) }, sg,
         words.join(' \u00b7 ').slice(0, 140));
    }
    el('title', {}, sg, segLabel(e) + (words.length ? '\n' + words.join('\n') : ''));
    var hit = el('rect', { x: 0, y: y - 10, width: XN + 400, height: Math.max(ROW * sy, 12), 'class': 'hit' }, sg);
    hit.addEventListener('click', function () {
      if (ladderView && ladderView.lastDragMoved) return;
      setStep(e.n);
    });
  }

  function drawState(g, x, y, name, s) {
    var w = name.length * 6.4 + 10;
    var sg = el('g', { 'class': 'state' }, g);
    el('rect', { x: s ? x + 4 : x - w - 4, y: y - 9, width: w, height: 13, rx: 3 }, sg);
    el('text', { x: s ? x + 9 : x - w + 1, y: y + 1 }, sg, name);
  }

  function drawSideRow(g, e, y, X0, X1) {
    var x = e.s ? X1 : X0;
    if (e.k === 'state') {
      drawState(g, x, y, e.from + ' \u2192 ' + e.to, e.s);
    } else if (e.k === 'note') {
      var ng = el('g', { 'class': 'appnote' }, g);
      el('text', { x: e.s ? x + 8 : x - 8, y: y + 3, 'text-anchor': e.s ? 'start' : 'end' }, ng, e.text);
      el('title', {}, ng, e.text);
    }
  }

  /* ---- charts: the time-sequence graph and the sender's variables ---- */
  function chartFrame(svg, d, ylabel, yfmt) {
    clear(svg);
    var sz = size(svg);
    svg.setAttribute('viewBox', '0 0 ' + sz.w + ' ' + sz.h);
    var m = { l: 70, r: 12, t: 10, b: 34 };
    var pw = sz.w - m.l - m.r, ph = sz.h - m.t - m.b;
    var fx = function (x) { return m.l + (x - d.x0) / (d.x1 - d.x0) * pw; };
    var fy = function (y) { return m.t + ph - (y - d.y0) / (d.y1 - d.y0) * ph; };
    var ax = el('g', { 'class': 'axis' }, svg);
    var tx = ticks(d.x0, d.x1, 8), ty = ticks(d.y0, d.y1, 6);
    tx.forEach(function (x) {
      el('line', { x1: fx(x), x2: fx(x), y1: m.t, y2: m.t + ph, 'class': 'grid' }, ax);
      el('text', { x: fx(x), y: m.t + ph + 14, 'text-anchor': 'middle' }, ax, (x / 1e6).toFixed(x && Math.abs(d.x1 - d.x0) < 1e4 ? 4 : 3));
    });
    ty.forEach(function (y) {
      el('line', { x1: m.l, x2: m.l + pw, y1: fy(y), y2: fy(y), 'class': 'grid' }, ax);
      el('text', { x: m.l - 4, y: fy(y) + 4, 'text-anchor': 'end' }, ax, yfmt ? yfmt(y) : String(Math.round(y)));
    });
    el('path', { d: 'M' + m.l + ',' + m.t + 'V' + (m.t + ph) + 'H' + (m.l + pw), fill: 'none' }, ax);
    el('text', { x: m.l + pw / 2, y: sz.h - 4, 'text-anchor': 'middle' }, ax, W.timeS);
    el('text', { x: 12, y: m.t + ph / 2, 'text-anchor': 'middle',
                 transform: 'rotate(-90 12 ' + (m.t + ph / 2) + ')' }, ax, ylabel);
    var clipId = svg.id + '-clip';
    var defs = el('defs', {}, svg);
    var cp = el('clipPath', { id: clipId }, defs);
    el('rect', { x: m.l, y: m.t, width: pw, height: ph }, cp);
    var plot = el('g', { 'clip-path': 'url(#' + clipId + ')' }, svg);
    return { plot: plot, fx: fx, fy: fy, m: m, pw: pw, ph: ph };
  }

  function cursorLine(c, d) {
    if (cur < 0 || !segs[cur]) return;
    var x = c.fx(segs[cur].t - t0);
    el('line', { x1: x, x2: x, y1: c.m.t, y2: c.m.t + c.ph, 'class': 'cursor' }, c.plot);
  }

  var tsgView = null;
  /* The whole graph: every segment's time; sequence up to the data and ACKs, and the window
   * line only as far as it stays near them (a 64 KB window over 1 KB of data would flatten
   * the data; zooming out shows it). */
  function tsgFull() {
    var x1 = 1, top = 1, wtop = 1;
    segs.forEach(function (e) {
      x1 = Math.max(x1, e.t - t0);
      if (!e.rk) return;
      if (e.s === dir) top = Math.max(top, e.rs + e.len + 1);
      else if (/ACK/.test(e.f)) { top = Math.max(top, e.ra); wtop = Math.max(wtop, e.ra + e.win); }
    });
    var y1 = Math.min(wtop, top * 1.5);
    return { x0: 0, x1: x1 * 1.02 + 1, y0: 0, y1: Math.max(top, y1) * 1.05 + 1 };
  }

  function drawTsg(d) {
    var svg = $('tsg');
    var c = chartFrame(svg, d, W.relSeq + ' (' + W.bytes + ')');
    if (!conn || !segs.length) { el('text', { x: 90, y: 40, 'class': 'empty' }, svg, conn ? W.noSegs : W.noConns); return; }
    var ack = '', win = '', n = 0;
    for (var i = 0; i < segs.length && n < MAX_DRAWN; i++) {
      var e = segs[i];
      if (!e.rk) continue;
      var x = c.fx(e.t - t0);
      if (e.s === dir) {
        var sl = e.len + (/SYN|FIN/.test(e.f) ? 1 : 0);
        if (!sl) continue;
        n++;
        var top = e.rs + sl;
        var cls = 'tbar s' + e.s + (isRtx(e) ? ' rtx' : '') + (e.n === cur ? ' cur' : '');
        var b = el('line', { x1: x, x2: x, y1: c.fy(e.rs), y2: c.fy(top), 'class': cls, 'data-i': e.i }, c.plot);
        el('title', {}, b, segLabel(e));
        if (e.lost) {
          var yy = c.fy(top);
          el('line', { x1: x - 4, x2: x + 4, y1: yy - 4, y2: yy + 4, 'class': 'tlost' }, c.plot);
          el('line', { x1: x - 4, x2: x + 4, y1: yy + 4, y2: yy - 4, 'class': 'tlost' }, c.plot);
        }
      } else if (/ACK/.test(e.f) && !/RST/.test(e.f)) {
        var ya = c.fy(e.ra), yw = c.fy(e.ra + e.win);
        ack += (ack ? 'H' + x + 'V' + ya : 'M' + x + ',' + ya);
        win += (win ? 'H' + x + 'V' + yw : 'M' + x + ',' + yw);
        (e.sack || []).forEach(function (bk) {
          el('line', { x1: x + 2, x2: x + 2, y1: c.fy(bk[0]), y2: c.fy(bk[1]), 'class': 'sackbar' }, c.plot);
        });
      }
    }
    if (ack) {
      ack += 'H' + c.fx(d.x1); win += 'H' + c.fx(d.x1);
      el('path', { d: ack, 'class': 'ackline' }, c.plot);
      el('path', { d: win, 'class': 'winline' }, c.plot);
    }
    cursorLine(c, d);
  }

  function legend(id, items) {
    var box = $(id);
    clear(box);
    items.forEach(function (it) {
      var i = hel('i', null, box);
      i.style.background = it[1];
      box.appendChild(document.createTextNode(it[0]));
    });
  }

  var cwndView = null, rttView = null;
  function senderSegs() {
    return segs.filter(function (e) { return e.snd && e.s === dir; });
  }
  function seriesFull(list, keys, scale) {
    var x1 = 1, y1 = 1;
    list.forEach(function (e) {
      x1 = Math.max(x1, e.t - t0);
      keys.forEach(function (k) { var v = e.snd[k]; if (v < 0x7fffffff) y1 = Math.max(y1, v / scale); });
    });
    return { x0: 0, x1: x1 * 1.02 + 1, y0: 0, y1: y1 * 1.1 + 1 };
  }
  function drawSeries(svgId, keys, scale, label) {
    return function (d) {
      var svg = $(svgId), list = senderSegs();
      var c = chartFrame(svg, d, label);
      keys.forEach(function (k) {
        var p = '';
        list.forEach(function (e) {
          var v = e.snd[k];
          if (v >= 0x7fffffff) return; /* ssthresh "infinite" before the first loss */
          var x = c.fx(e.t - t0), y = c.fy(v / scale);
          p += p ? 'H' + x + 'V' + y : 'M' + x + ',' + y;
        });
        if (p) el('path', { d: p + 'H' + c.fx(d.x1), 'class': 'series c-' + k }, c.plot);
      });
      cursorLine(c, d);
    };
  }

  /* ---- the step panel ---- */
  function phaseOf(e) {
    if (/RST/.test(e.f)) return W.rstPhase;
    if (/SYN/.test(e.f) || e.nk.indexOf('handshake-ack') >= 0) return W.handshake;
    var fin = [/FIN/.test(e.f), false];
    var closing = e.sb.concat(e.sa).some(function (s) {
      return /FIN-WAIT|CLOSING|TIME-WAIT|LAST-ACK|CLOSE-WAIT/.test(s);
    });
    if (fin[0] || closing) {
      var halfOpen = e.sa.some(function (s) { return /FIN-WAIT-2|CLOSE-WAIT/.test(s); }) && e.len > 0;
      return halfOpen ? W.halfClose : W.close;
    }
    return W.transfer;
  }

  function row(tb, k, v, cls) {
    var tr = hel('tr', null, tb);
    hel('td', k, tr);
    var td = hel('td', null, tr, cls);
    if (v instanceof Node) td.appendChild(v); else td.textContent = v;
    return td;
  }

  function showDetail() {
    var box = $('detail');
    clear(box);
    $('phase').textContent = '';
    $('pos').textContent = segs.length ? fmt(W.segOf, cur + 1, segs.length) : '';
    $('prev').disabled = cur <= 0;
    $('next').disabled = cur >= segs.length - 1;
    if (cur < 0 || !segs[cur]) { hel('p', conn ? W.noSegs : W.noConns, box); return; }
    var e = segs[cur];
    $('phase').textContent = phaseOf(e);
    var tb = hel('tbody', null, hel('table', null, box));
    row(tb, W.sender, fmt(W.sentBy, conn.names[e.s] + ' ' + conn.addr[e.s], conn.names[1 - e.s] + ' ' + conn.addr[1 - e.s]));
    row(tb, W.at, secs(e.t - t0) + ' s');
    row(tb, W.flags, e.f);
    row(tb, W.seq, (e.rk ? e.rs + ' (' + W.rel + '), ' : '') + e.seq + ' (' + W.abs + ')');
    row(tb, W.ack, (e.rk ? e.ra + ' (' + W.rel + '), ' : '') + e.ack + ' (' + W.abs + ')');
    row(tb, W.len, String(e.len));
    row(tb, W.win, e.win + (e.win !== e.wr ? ' (' + e.wr + ')' : ''));
    if (e.o) row(tb, W.opts, e.o);
    if (e.sack.length) row(tb, W.sack, e.sack.map(function (b) { return b[0] + '\u2013' + b[1]; }).join(', '));
    for (var s = 0; s < 2; s++) {
      var txt = e.sb[s] === e.sa[s] ? e.sa[s] + ' (' + W.unchanged + ')' : e.sb[s] + ' \u2192 ' + e.sa[s];
      row(tb, W.state + ' \u00b7 ' + conn.names[s], txt, e.sb[s] === e.sa[s] ? '' : 'statechg');
    }
    if (e.snd) {
      row(tb, W.whyLeft, W.why[e.snd.why] || e.snd.why, 'why');
      row(tb, 'cwnd / ssthresh', e.snd.cwnd + ' / ' + (e.snd.ssthresh >= 0x7fffffff ? '\u221e' : e.snd.ssthresh) + ' ' + W.bytes);
      row(tb, 'SRTT / RTO', ms(e.snd.srtt) + ' / ' + ms(e.snd.rto) + ' ' + W.ms);
    }
    if (e.lost) row(tb, W.lost, W.lostOnLink, 'why');
    hel('h3', W.explain, box);
    var ul = hel('ul', null, box, 'explain');
    if (!e.notes.length) hel('li', W.nothing, ul);
    e.notes.forEach(function (n) { hel('li', n, ul); });
  }

  function setStep(i) {
    if (!segs.length) { cur = -1; showDetail(); return; }
    cur = Math.max(0, Math.min(segs.length - 1, i));
    var e = segs[cur];
    var marked = document.querySelectorAll('.cur');
    for (var k = 0; k < marked.length; k++) marked[k].classList.remove('cur');
    var hs = document.querySelectorAll('[data-i="' + e.i + '"]');
    for (var h = 0; h < hs.length; h++) hs[h].classList.add('cur');
    var li = document.querySelector('#notes li[data-i="' + e.i + '"]');
    if (li) li.classList.add('cur');
    for (var r = 0; r < ladderRows.length; r++)
      if (ladderRows[r].ev === e) { ladderView.show(ladderRows[r].y); break; }
    showDetail();
    [tsgView, cwndView, rttView].forEach(function (v) { if (v) v.update(); });
  }

  function fillNotes() {
    var ol = $('notes');
    clear(ol);
    var n = 0;
    (conn ? conn.ev : []).forEach(function (e) {
      if (n > 2000) return;
      var text = e.k === 'seg' ? e.notes.join(' \u00b7 ') : e.k === 'note' ? e.text : '';
      if (e.k === 'seg' && e.lost) text = W.lostOnLink + (text ? ' \u00b7 ' + text : '');
      if (!text) return;
      n++;
      var li = hel('li', secs(e.t - t0) + ' ' + (conn.names[e.s] || '') + ': ' + text, ol);
      if (e.k === 'seg') {
        li.setAttribute('data-i', e.i);
        li.addEventListener('click', function () { setStep(e.n); });
      }
    });
  }

  /* ---- a connection ---- */
  function selectConn(k) {
    conn = data.conns[k] || null;
    segs = conn ? conn.ev.filter(function (e) { return e.k === 'seg'; }) : [];
    segs.forEach(function (e, n) { e.n = n; });
    t0 = conn && conn.ev.length ? conn.ev[0].t : 0;
    segs.forEach(function (e) { t0 = Math.min(t0, e.t); });
    dir = 0;
    var sel = $('dir');
    clear(sel);
    for (var s = 0; s < 2 && conn; s++) {
      var o = hel('option', conn.names[s] + ' ' + conn.addr[s], sel);
      o.value = String(s);
    }
    $('warnings').textContent = '';
    if (data.bad) warn(data.bad);
    if (data.oom) warn(W.oom);
    if (data.connsOmitted) warn(fmt(W.connsOmitted, data.connsOmitted));
    if (conn && conn.omitted) warn(fmt(W.omitted, conn.omitted, data.maxSegments));
    if (conn && segs.length > MAX_DRAWN) warn(fmt(W.omitted, segs.length - MAX_DRAWN, MAX_DRAWN));
    $('summary').textContent = conn ? conn.names[0] + ' ' + conn.addr[0] + ' \u21c4 ' + conn.names[1] + ' ' +
      conn.addr[1] + ' \u00b7 ' + segs.length + ' seg \u00b7 ' + conn.bytes[0] + ' / ' + conn.bytes[1] + ' ' +
      W.bytes + ' \u00b7 ' + W.ended + ': ' + conn.endText : W.noConns;
    ladderHeight = buildRows();
    var lh = size($('ladder')).h;
    ladderView.full = { x0: 0, x1: 1000, y0: 0, y1: Math.max(lh, 200) };
    ladderView.reset();
    resetCharts();
    fillNotes();
    cur = -1;
    setStep(0);
  }

  function resetCharts() {
    tsgView.full = tsgFull();
    tsgView.reset();
    var has = segs.some(function (e) { return e.snd; });
    $('sender-box').hidden = !has;
    if (has) {
      var list = senderSegs();
      cwndView.full = seriesFull(list, ['cwnd', 'ssthresh'], 1);
      rttView.full = seriesFull(list, ['srtt', 'rto'], 1000);
      cwndView.reset();
      rttView.reset();
    }
  }

  function init() {
    applyWords();
    ladderView = new View($('ladder'), drawLadder, { x0: 0, x1: 1000, y0: 0, y1: 560 }, { lockX: true, yDown: true });
    tsgView = new View($('tsg'), drawTsg, { x0: 0, x1: 1, y0: 0, y1: 1 });
    cwndView = new View($('cwnd'), drawSeries('cwnd', ['cwnd', 'ssthresh'], 1, W.bytes), { x0: 0, x1: 1, y0: 0, y1: 1 });
    rttView = new View($('rtt'), drawSeries('rtt', ['srtt', 'rto'], 1000, W.ms), { x0: 0, x1: 1, y0: 0, y1: 1 });
    views = [ladderView, tsgView, cwndView, rttView];
    legend('tsg-legend', [[W.data, '#1f6feb'], [W.rtx, '#d1242f'], [W.ackLine, '#1a7f37'],
                          [W.winLine, '#8250df'], [W.sackBlocks, '#bf8700'], ['\u2715 ' + W.lost, '#d1242f']]);
    legend('cwnd-legend', [[W.cwnd, '#1f6feb'], [W.ssthresh, '#d1242f']]);
    legend('rtt-legend', [[W.srtt, '#1a7f37'], [W.rto, '#8250df']]);
    var sel = $('conn');
    (data.conns || []).forEach(function (c, k) {
      var o = hel('option', '#' + c.id + '  ' + c.addr[0] + ' \u21c4 ' + c.addr[1] + '  (' + c.endText + ')', sel);
      o.value = String(k);
    });
    $('conn-label').hidden = (data.conns || []).length < 2;
    sel.addEventListener('change', function () { selectConn(+sel.value); });
    $('dir').addEventListener('change', function () { dir = +$('dir').value; resetCharts(); });
    $('prev').addEventListener('click', function () { setStep(cur - 1); });
    $('next').addEventListener('click', function () { setStep(cur + 1); });
    $('zoom-in').addEventListener('click', function () { views.forEach(function (v) { v.zoom(0.8); }); });
    $('zoom-out').addEventListener('click', function () { views.forEach(function (v) { v.zoom(1.25); }); });
    $('zoom-reset').addEventListener('click', function () { views.forEach(function (v) { v.reset(); }); });
    document.addEventListener('keydown', function (e) {
      if (e.target && /SELECT|INPUT|TEXTAREA/.test(e.target.tagName)) return;
      var k = e.key;
      if (e.shiftKey && /^Arrow/.test(k)) {
        var f = { ArrowLeft: [-0.1, 0], ArrowRight: [0.1, 0], ArrowUp: [0, -0.1], ArrowDown: [0, 0.1] }[k];
        views.forEach(function (v) { v.pan(f[0], v.opts.yDown ? f[1] : -f[1]); });
      } else if (k === 'ArrowRight' || k === 'ArrowDown' || k === 'j' || k === 'n') {
        setStep(cur + 1);
      } else if (k === 'ArrowLeft' || k === 'ArrowUp' || k === 'k' || k === 'p') {
        setStep(cur - 1);
      } else if (k === '+' || k === '=') {
        views.forEach(function (v) { v.zoom(0.8); });
      } else if (k === '-' || k === '_') {
        views.forEach(function (v) { v.zoom(1.25); });
      } else if (k === '0') {
        views.forEach(function (v) { v.reset(); });
      } else if (k === 'Home') {
        setStep(0);
      } else if (k === 'End') {
        setStep(segs.length - 1);
      } else {
        return;
      }
      e.preventDefault();
    });
    window.addEventListener('resize', function () { views.forEach(function (v) { v.update(); }); });
    selectConn(0);
    /* The views draw on the next frame; a page printed at once (a headless --dump-dom, a
     * print) gets them drawn now as well. */
    views.forEach(function (v) { v.pending = false; v.draw(v.d); });
  }

  /* #selftest (tests/cli/test_trace_html.sh): the page drives itself through the events a user
   * makes (keys, the wheel, a drag, the buttons) and writes the views' domains and the step
   * before and after each into <pre id="selftest">, so that a headless browser's DOM shows
   * whether zooming, panning and stepping work. Nothing happens without the fragment. */
  function selftest() {
    var out = [], lv = ladderView, tv = tsgView;
    function dom(v) { return [v.d.x0, v.d.x1, v.d.y0, v.d.y1]; }
    function full(v) { return [v.full.x0, v.full.x1, v.full.y0, v.full.y1]; }
    function key(k, shift) {
      document.dispatchEvent(new KeyboardEvent('keydown', { key: k, shiftKey: !!shift,
                                                            bubbles: true, cancelable: true }));
    }
    function step(name, v, act) {
      var before = dom(v);
      act();
      out.push({ step: name, before: before, after: dom(v), full: full(v), cur: cur });
    }
    step('key+', lv, function () { key('+'); });
    step('key-', lv, function () { key('-'); });
    step('shift-down', lv, function () { key('ArrowDown', true); });
    step('key0', lv, function () { key('0'); });
    step('next2', lv, function () { key('ArrowRight'); key('ArrowRight'); });
    step('prev', lv, function () { key('ArrowLeft'); });
    var r = tv.svg.getBoundingClientRect();
    step('wheel-tsg', tv, function () {
      tv.svg.dispatchEvent(new WheelEvent('wheel', { deltaY: -100, bubbles: true, cancelable: true,
        clientX: r.left + r.width / 2, clientY: r.top + r.height / 2 }));
    });
    var lr = lv.svg.getBoundingClientRect();
    step('drag-ladder', lv, function () {
      lv.svg.dispatchEvent(new MouseEvent('mousedown', { button: 0, bubbles: true,
        clientX: lr.left + 50, clientY: lr.top + 50 }));
      window.dispatchEvent(new MouseEvent('mousemove', { clientX: lr.left + 50,
                                                         clientY: lr.top + 150 }));
      window.dispatchEvent(new MouseEvent('mouseup', {}));
    });
    out[out.length - 1].height = lr.height;
    step('button-zoom-in', tv, function () { $('zoom-in').click(); });
    step('button-reset', tv, function () { $('zoom-reset').click(); });
    views.forEach(function (v) { v.pending = false; v.draw(v.d); });
    var pre = document.createElement('pre');
    pre.id = 'selftest';
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  }

  init();
  if (location.hash === '#selftest') selftest();
})();
