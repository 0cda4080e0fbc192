#ifndef REEL_EDITLINE_SHIM_H
#define REEL_EDITLINE_SHIM_H
#include <stdio.h>
#include <histedit.h>

/// el_set(3) and history(3) are variadic, which Swift cannot call: these are the calls reel
/// makes, spelled out. The editor reads stdin and draws on stdout. `client` comes back from reel_editline_client in the callbacks.
EditLine *reel_editline_open(const char *program, void *client,
                             History *entries, char *(*prompt)(EditLine *), el_rfunc_t read_character,
                             unsigned char (*complete)(EditLine *, int), unsigned char (*interrupt)(EditLine *, int));
void *reel_editline_client(EditLine *editor);

History *reel_history_open(int size);
void reel_history_enter(History *entries, const char *entry);
#endif
