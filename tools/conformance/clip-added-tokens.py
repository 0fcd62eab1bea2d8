#!/usr/bin/env python3
"""Builds fixtures/tokenizer-added-tokens.json: CLIP token ids for prompts with special/added tokens in them.

No transformers here (no pip registry), so the ids are derived by reasoning from transformers 5.x's algorithm,
re-implemented below from reading its code (not copied):
  PythonBackend.tokenize: cut the added tokens (bos, eos, unk, pad) out of the RAW text with Trie.split (leftmost
  match, longest there; case-sensitive), keep them whole, run CLIPTokenizer._tokenize on the text between them
  (NFC, whitespace runs to one space, strip, lower, CLIP regex, byte-level BPE with </w>);
  then <|startoftext|> ids[:75] <|endoftext|>, padded to 77 with the pad token (SD 1.x <|endoftext|>, SD 2.x "!").
Before writing, it checks itself against the 13 real transformers cases of fixtures/tokenizer.json (must all equal).
Needs python3 with the `regex` module. Run from the repo root: python3 tools/conformance/clip-added-tokens.py
"""
import json, sys, unicodedata, regex as re
D='fixtures/models/tiny-sd/tokenizer/'
enc=json.load(open(D+'vocab.json'))
merges=open(D+'merges.txt',encoding='utf-8').read().strip().split('\n')[1:49152-256-2+1]
ranks={tuple(m.split()):i for i,m in enumerate(merges)}
bs=list(range(ord('!'),ord('~')+1))+list(range(ord('¡'),ord('¬')+1))+list(range(ord('®'),ord('ÿ')+1))
cs=bs[:];n=0
for b in range(256):
  if b not in bs: bs.append(b); cs.append(256+n); n+=1
be=dict(zip(bs,map(chr,cs)))
pat=re.compile(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",re.IGNORECASE)
cache={'<|startoftext|>':'<|startoftext|>','<|endoftext|>':'<|endoftext|>'}
def bpe(tok):
  if tok in cache: return cache[tok]
  word=tuple(tok[:-1])+(tok[-1]+'</w>',)
  while len(word)>1:
    pairs=[(word[i],word[i+1]) for i in range(len(word)-1)]
    best=min(pairs,key=lambda p:ranks.get(p,float('inf')))
    if best not in ranks: break
    a,b=best;nw=[];i=0
    while i<len(word):
      if i<len(word)-1 and word[i]==a and word[i+1]==b: nw.append(a+b);i+=2
      else: nw.append(word[i]);i+=1
    word=tuple(nw)
  cache[tok]=' '.join(word); return cache[tok]
def _tokenize(text):
  text=re.sub(r'\s+',' ',unicodedata.normalize('NFC',text)).strip().lower()
  out=[]
  for t in re.findall(pat,text):
    out+=bpe(''.join(be[b] for b in t.encode('utf-8'))).split(' ')
  return out
def split(text,added):
  # leftmost, then longest match of the added tokens (Trie.split for tokens none of which contains another)
  pieces=[];i=0;start=0
  while i<len(text):
    m=max((t for t in added if text.startswith(t,i)),key=len,default=None)
    if m: 
      if start<i: pieces.append(text[start:i])
      pieces.append(m); i+=len(m); start=i
    else: i+=1
  if start<len(text): pieces.append(text[start:])
  return pieces
def tokenize(text,added):
  out=[]
  for p in split(text,added):
    out+= [p] if p in added else _tokenize(p)
  return out
def call(text,pad):
  added={'<|startoftext|>','<|endoftext|>',pad}
  ids=[enc.get(t,49407) for t in tokenize(text,added)][:75]
  ids=[49406]+ids+[49407]
  mask=[1]*len(ids)
  while len(ids)<77: ids.append(enc[pad]); mask.append(0)
  return ids,mask,tokenize(text,added)
def check_against_transformers_cases():
  ref=json.load(open('fixtures/tokenizer.json'))
  bad=0
  for c in ref['prompts']:
    i1,m1,toks=call(c['text'],'<|endoftext|>'); i2,_,_=call(c['text'],'!')
    ok = i1==c['sd15_input_ids'] and m1==c['sd15_attention_mask'] and i2==c['sd2_input_ids']
    if not ok: bad+=1; print('MISMATCH',repr(c['text']))
  print('fixtures/tokenizer.json cases', len(ref['prompts']), 'mismatches', bad)
  if bad: sys.exit(1)

NOTES=('Derived by reasoning from transformers 5.x CLIPTokenizer (added tokens split out of the raw text before BPE), '
       'NOT produced by transformers: tools/conformance/clip-added-tokens.py, checked against fixtures/tokenizer.json. '
       'SD 1.x: pad <|endoftext|>; SD 2.x: pad "!" (id 0), so every "!" is its own id 0.')
check_against_transformers_cases()
texts=[
 "a cat!!!",
 "WOW! an astronaut riding a horse!!",
 "hello!world",
 "?!?",
 "!",
 " ! ",
 "a!b!c",
 "don't!",
 "¡hola!",
 "party 🎉!!",
 "masterpiece, best quality!!!, (detailed:1.2)!",
 "a photo of a cat <|endoftext|> a dog",
 "!<|endoftext|>",
 "<|startoftext|>a cat<|endoftext|>",
 "a cat<|endoftext|>!!",
 "<|endoftext|><|endoftext|>",
 "!"*100,
 ("a red circle! "*20).strip(),
]
out=[]
for t in texts:
  i1,m1,toks1=call(t,'<|endoftext|>'); i2,m2,toks2=call(t,'!')
  out.append({'text':t,'sd15_input_ids':i1,'sd15_attention_mask':m1,'sd15_tokens':toks1,'sd2_input_ids':i2,'sd2_attention_mask':m2,'sd2_tokens':toks2})
with open('fixtures/tokenizer-added-tokens.json','w') as f:
  f.write('{"notes": '+json.dumps(NOTES)+',\n "prompts": [\n  '+',\n  '.join(json.dumps(c,ensure_ascii=False) for c in out)+'\n ]\n}\n')
print('wrote', len(out), 'cases')
