package fakediscord

import (
	"net/http"
	"strconv"
	"time"
)

type callbackBody struct {
	Type int          `json:"type"`
	Data *messageBody `json:"data"`
}

func (s *Server) postCallback(r *http.Request) (int, any) {
	var body callbackBody
	if e := decodeBody(r, &body); e != nil {
		return fail(e)
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.pending[r.PathValue("id")]
	if in == nil || in.token != r.PathValue("token") {
		return fail(errUnknownInteract)
	}
	if in.callback != 0 {
		return fail(errAlreadyAcked)
	}
	if in.expired || now.Sub(in.dispatched) > s.opts.InteractionTimeout {
		in.expired = true
		s.stats.LateCallbacks++
		return fail(errUnknownInteract)
	}
	if e := s.applyCallbackLocked(in, body, now); e != nil {
		return fail(e)
	}
	in.callback = body.Type
	in.ackAt = now
	s.stats.Callbacks++
	close(in.acked)
	return http.StatusNoContent, nil
}

// applyCallbackLocked validates a callback and creates or updates the
// message it carries.
func (s *Server) applyCallbackLocked(in *interaction, body callbackBody, now time.Time) *apiError {
	var data messageBody
	if body.Data != nil {
		data = *body.Data
	}
	m := data.message()
	ch := s.channels[in.channelID]
	switch {
	case in.kind == interactionAutocomplete:
		if body.Type != CallbackAutocompleteResult {
			var fe formErrors
			fe.add([]string{"type"}, "INTERACTION_RESPONSE_TYPE_INVALID", "An autocomplete interaction takes only an autocomplete result")
			return fe.err()
		}
		if e := checkChoices(data.Choices); e != nil {
			return e
		}
		in.choices = data.Choices
		in.finishLocked(now)
	case body.Type == CallbackMessage:
		if e := checkNewMessage(m, FlagSuppressEmbeds|FlagEphemeral|FlagSuppressNotifications, "data"); e != nil {
			return e
		}
		in.original = s.newRecordLocked(ch, m, in)
		in.finishLocked(now)
	case body.Type == CallbackDeferredMessage:
		m = Message{Flags: FlagLoading | m.Flags&FlagEphemeral}
		in.original = s.newRecordLocked(ch, m, in)
	case body.Type == CallbackDeferredUpdate && in.kind == interactionComponent:
		in.original = in.sourceMsg
	case body.Type == CallbackUpdateMessage && in.kind == interactionComponent:
		updated := in.sourceMsg.msg
		data.apply(&updated)
		if e := validateMessage(updated, "data"); e != nil {
			return e
		}
		in.sourceMsg.msg = updated
		in.sourceMsg.edited = &now
		in.original = in.sourceMsg
		in.finishLocked(now)
	case body.Type == CallbackModal:
		in.finishLocked(now)
	default:
		var fe formErrors
		fe.add([]string{"type"}, "INTERACTION_RESPONSE_TYPE_INVALID", "Interaction response type "+strconv.Itoa(body.Type)+" is not valid for this interaction")
		return fe.err()
	}
	return nil
}

// webhookInteractionLocked resolves the interaction of a webhook route.
func (s *Server) webhookInteractionLocked(r *http.Request) (*interaction, *apiError) {
	in := s.byToken[r.PathValue("token")]
	if r.PathValue("app") != s.opts.ApplicationID || in == nil || in.callback == 0 {
		return nil, errUnknownWebhook
	}
	return in, nil
}

// webhookMessageLocked resolves "@original" or a follow-up ID.
func (s *Server) webhookMessageLocked(r *http.Request) (*interaction, *record, *apiError) {
	in, e := s.webhookInteractionLocked(r)
	if e != nil {
		return nil, nil, e
	}
	id := r.PathValue("msg")
	if id == "@original" {
		if in.original == nil || in.original.deleted {
			return nil, nil, errUnknownMessage
		}
		return in, in.original, nil
	}
	for _, f := range in.followups {
		if f.msg.ID == id && !f.deleted {
			return in, f, nil
		}
	}
	return nil, nil, errUnknownMessage
}

func (s *Server) getWebhookMessage(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, rec, e := s.webhookMessageLocked(r)
	if e != nil {
		return fail(e)
	}
	return http.StatusOK, s.messagePayload(rec)
}

// edit applies an edit to the message, as Discord does: what the body
// leaves out stays, the loading flag goes, and the result must be a valid
// message.
func (rec *record) edit(body messageBody, now time.Time) *apiError {
	updated := rec.msg
	body.apply(&updated)
	updated.Flags &^= FlagLoading
	if e := validateMessage(updated); e != nil {
		return e
	}
	rec.msg = updated
	rec.edited = &now
	return nil
}

func (s *Server) patchWebhookMessage(r *http.Request) (int, any) {
	var body messageBody
	if e := decodeBody(r, &body); e != nil {
		return fail(e)
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	in, rec, e := s.webhookMessageLocked(r)
	if e != nil {
		return fail(e)
	}
	if e := rec.edit(body, now); e != nil {
		return fail(e)
	}
	if rec == in.original {
		in.finishLocked(now)
	}
	return http.StatusOK, s.messagePayload(rec)
}

func (s *Server) deleteWebhookMessage(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, rec, e := s.webhookMessageLocked(r)
	if e != nil {
		return fail(e)
	}
	rec.deleted = true
	return http.StatusNoContent, nil
}

func (s *Server) postFollowup(r *http.Request) (int, any) {
	var body messageBody
	if e := decodeBody(r, &body); e != nil {
		return fail(e)
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	in, e := s.webhookInteractionLocked(r)
	if e != nil {
		return fail(e)
	}
	m := body.message()
	if e := checkNewMessage(m, FlagSuppressEmbeds|FlagEphemeral|FlagSuppressNotifications); e != nil {
		return fail(e)
	}
	var rec *record
	if orig := in.original; in.callback == CallbackDeferredMessage && orig.msg.Flags&FlagLoading != 0 {
		// Discord turns the first follow-up after a deferral into the
		// original response; the deferral decided whether it is ephemeral.
		m.ID, m.ChannelID, m.Flags = orig.msg.ID, orig.msg.ChannelID, orig.msg.Flags&FlagEphemeral|m.Flags&^FlagEphemeral
		orig.msg = m
		orig.edited = &now
		rec = orig
		in.finishLocked(now)
	} else {
		rec = s.newRecordLocked(s.channels[in.channelID], m, in)
		in.followups = append(in.followups, rec)
	}
	if r.URL.Query().Get("wait") != "true" {
		return http.StatusNoContent, nil
	}
	return http.StatusOK, s.messagePayload(rec)
}
