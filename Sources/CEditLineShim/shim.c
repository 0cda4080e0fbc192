#include "CEditLineShim.h"

// Keys are bound here, once: the emacs map of editline(3) (el_init, el_set) with the few
// keys a shell user expects that libedit leaves elsewhere or unbound.
EditLine *reel_editline_open(const char *program, void *client,
                             History *entries, char *(*prompt)(EditLine *), el_rfunc_t read_character,
                             unsigned char (*complete)(EditLine *, int), unsigned char (*interrupt)(EditLine *, int)) {
    EditLine *editor = el_init(program, stdin, stdout, stderr);
    if (editor == NULL) return NULL;
    el_set(editor, EL_CLIENTDATA, client);
    el_set(editor, EL_EDITOR, "emacs");
    el_set(editor, EL_PROMPT, prompt);
    el_set(editor, EL_HIST, history, entries);
    el_set(editor, EL_GETCFN, read_character);
    // Ctrl-C is a key while a line is edited (it drops the line), not a signal: the signal
    // belongs to a running entry.
    el_set(editor, EL_SETTY, "-d", "-isig", NULL);
    // Without the terminal's insert- and delete-character capabilities libedit redraws the
    // rest of the line instead: its paths through them leave the cursor a column off after a
    // wide character (libedit 3.1-20221030; ReplPTYTests.wideCharactersDrawAtTheirWidth).
    static const char *const shifts[] = {"dc", "DC", "ic", "IC", "im", "ei"};
    for (int i = 0; i < 6; i++) el_set(editor, EL_SETTC, shifts[i], "", NULL);
    el_set(editor, EL_ADDFN, "reel-complete", "Complete reel's functions, options, fields and models", complete);
    el_set(editor, EL_ADDFN, "reel-interrupt", "Drop the line", interrupt);
    el_set(editor, EL_BIND, "^I", "reel-complete", NULL);
    el_set(editor, EL_BIND, "^C", "reel-interrupt", NULL);
    el_set(editor, EL_BIND, "^R", "em-inc-search-prev", NULL);
    el_set(editor, EL_BIND, "^W", "ed-delete-prev-word", NULL);
    el_set(editor, EL_BIND, "^U", "vi-kill-line-prev", NULL);
    static const char *const starts[] = {"\033[H", "\033OH", "\033[1~", "\033[7~"};
    static const char *const ends[] = {"\033[F", "\033OF", "\033[4~", "\033[8~"};
    for (int i = 0; i < 4; i++) {
        el_set(editor, EL_BIND, starts[i], "ed-move-to-beg", NULL);
        el_set(editor, EL_BIND, ends[i], "ed-move-to-end", NULL);
    }
    el_set(editor, EL_BIND, "\033[3~", "ed-delete-next-char", NULL);
    // Ctrl- and Alt-arrows move by word, as Alt-b / Alt-f do.
    static const char *const wordLefts[] = {"\033[1;5D", "\033[1;3D"};
    static const char *const wordRights[] = {"\033[1;5C", "\033[1;3C"};
    for (int i = 0; i < 2; i++) {
        el_set(editor, EL_BIND, wordLefts[i], "ed-prev-word", NULL);
        el_set(editor, EL_BIND, wordRights[i], "em-next-word", NULL);
    }
    return editor;
}

void *reel_editline_client(EditLine *editor) {
    void *client = NULL;
    el_get(editor, EL_CLIENTDATA, &client);
    return client;
}

History *reel_history_open(int size) {
    History *entries = history_init();
    HistEvent event;
    history(entries, &event, H_SETSIZE, size);
    return entries;
}

void reel_history_enter(History *entries, const char *entry) {
    HistEvent event;
    history(entries, &event, H_ENTER, entry);
}
