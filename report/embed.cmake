# Writes OUT, a C file holding each asset of the report (report/) as a
# '\0'-terminated char array, so that the vmsim binary needs no file at run
# time: report_asset_NAME for report/FILE, by the pairs below. Run as:
# cmake -DOUT=file.c -DDIR=report -P embed.cmake
set(text "/* Generated from report/ by report/embed.cmake: do not edit. */\n")
foreach(pair html:report.html css:report.css js:report.js replay_html:replay.html
             replay_js:replay.js)
  string(REPLACE ":" ";" parts ${pair})
  list(GET parts 0 name)
  list(GET parts 1 file)
  file(READ ${DIR}/${file} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
  string(APPEND text "const char report_asset_${name}[] = {\n${bytes}0};\n")
endforeach()
file(WRITE ${OUT}.tmp "${text}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)
