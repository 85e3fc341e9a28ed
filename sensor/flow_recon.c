/* flow_recon.c - payload-less TCP flows as ops for the flow rules
 * (flow_recon.h). */
#include "flow_recon.h"

#include <stdio.h>
#include <string.h>

#include "syn_shape.h"

bool flow_recon_op(const struct rec_flow *f, struct rec_op *out)
{
    if (f->meta.proto != IPPROTO_TCP_NUM || f->payload_seen || f->ops != 0 ||
        !(f->tcp_state & TCP_STATE_SYN) || f->orientation != ORIENT_HANDSHAKE)
        return false;
    memset(out, 0, sizeof(*out));
    out->key = f->key;
    out->ts_us = f->ts_us;
    out->meta = f->meta;
    op_record_init(&out->op, f->meta.app);
    const char *name = (f->tcp_state & TCP_STATE_SYNACK) ? "open"
                       : (f->tcp_state & TCP_STATE_RST) ? "closed" : "no_answer";
    snprintf(out->op.op, sizeof(out->op.op), "%s", name);
    snprintf(out->op.target, sizeof(out->op.target), "%u", (unsigned)f->meta.server_port);
    snprintf(out->op.client_id, sizeof(out->op.client_id), "%s",
             syn_tool_label((enum syn_tool)f->syn_tool));
    out->op.ts_request_us = f->start_us;
    out->op.ts_response_us = f->end_us;
    return true;
}
