/*
 * News furniture: paragraphs that belong to the site, not to the story.
 * They are recognised by their text alone (no site names), after
 * normalization. The list is part of the canonical form: docs/format.md
 * repeats it, and changing it changes the canon version.
 */
#include "canon.h"

#include <string.h>

/* A paragraph that starts with one of these is furniture. */
static const char *const starts[] = {
	"责任编辑", "責任編輯", "编辑：", "編輯：", "原标题", "原標題", "转载请注明", "轉載請註明",
	"本文来源", "本文來源", "文章来源", "文章來源", "海量资讯、精准解读", "海量資訊、精準解讀",
	"图片来源", "圖片來源", "图源：", "圖源：", "题图来源", "题图：", "題圖：", "来源：", "來源：",
	"免责声明", "免責聲明", "声明：本文", "聲明：本文", "版权声明", "版權聲明", "本文为", "本文經",
	"扫描二维码", "扫码关注", "扫码下载", "长按识别", "長按識別", "点击进入", "點擊進入",
	"关注我们", "關注我們", "欢迎关注", "歡迎關注", "- THE END -", "-THE END-", "THE END",
	"Advertisement", "ADVERTISEMENT", "Sponsored", "Share this", "Share on", "Follow us",
	"Sign up for", "Subscribe to", "Click here to", "Read more:", "Read More:", "READ MORE:",
	"Related:", "RELATED:", "See also:", "Photo:", "Photograph:", "Image:", "Picture:",
	"Credit:", "Image credit", "Image source", "Photo credit", "Copyright ©", "© Copyright",
	"All rights reserved", "Continue reading", "Supported by", "Click here", "This slideshow requires",
	"SEE MORE", "See more", "READ MORE", "DON'T MISS", "Don't miss", "Like this story",
	"Share it with", "Sharing is caring", "Posted:", "Updated:", "Published:", "Last updated", "Last Updated", "Posted on", "Published on",
	"Updated on", "Updated at", "Published at", "发布时间", "發佈時間", "发表时间", "更新时间", "更新時間",
	NULL
};

/* Of the prefixes above, these are furniture only in a short paragraph. */
static const char *const short_only[] = {
	"来源：", "來源：", "编辑：", "編輯：", "本文为", "本文經", "Photo:", "Photograph:", "Image:",
	"Picture:", "Credit:", "Related:", "RELATED:", "Supported by", "Continue reading", "Sponsored",
	"THE END", "Posted:", "Updated:", "Published:", "Last updated", "Last Updated", "Posted on",
	"Published on", "Updated on", "Updated at", "Published at", "发布时间", "發佈時間", "发表时间",
	"更新时间", "更新時間", "Click here", "SEE MORE", "See more", "READ MORE", "DON'T MISS",
	"Don't miss", "Like this story", "Share it with", "Sharing is caring", "Follow us", NULL
};

/* A short paragraph (at most SHORT code points) that contains one of these. */
static const char *const short_contains[] = {
	"Getty Images", "Getty images", "/ Reuters", "/Reuters", "/ AP", "/AP Photo", "AP Photo",
	"AFP via Getty", "Shutterstock", "iStock", "版权所有", "版權所有", "All Rights Reserved",
	"责任编辑", "責任編輯", "原标题：", "原標題：", NULL
};
#define SHORT 80

/* Paragraphs that are furniture when they are exactly this. */
static const char *const exact[] = { "广告", "廣告", "完", "（完）", "(完)", "分享", "Share", "Advertisement",
				     "ADVERTISEMENT", "Ad", "Loading...", "Loading", "comments", "Comments",
				     "Comment", "评论", "評論", "返回搜狐，查看更多", NULL };

/* An entry is compared only where its first byte matches: most
 * paragraphs start with a byte that begins none of them. */
int stet_canon_is_furniture(const char *s, size_t len)
{
	size_t i, chars;

	if (!len)
		return 0;
	for (i = 0; exact[i]; i++)
		if (exact[i][0] == s[0] && strlen(exact[i]) == len && !memcmp(s, exact[i], len))
			return 1;
	for (i = 0; starts[i]; i++) {
		size_t n;
		if (starts[i][0] != s[0])
			continue;
		n = strlen(starts[i]);
		if (len >= n && !memcmp(s, starts[i], n)) {
			size_t k;
			int is_short_only = 0;
			for (k = 0; short_only[k]; k++)
				is_short_only |= !strcmp(starts[i], short_only[k]);
			if (is_short_only && stet_utf8_len(s, len) > SHORT)
				continue;
			return 1;
		}
	}
	/* a code point is at most 4 bytes: longer text is not short */
	if (len > 4 * SHORT)
		return 0;
	chars = len <= SHORT ? len : stet_utf8_len(s, len);
	if (chars <= SHORT) {
		for (i = 0; short_contains[i]; i++) {
			size_t n = strlen(short_contains[i]);
			const char *p = s, *end = s + len;
			/* look only where the first byte matches */
			while ((size_t)(end - p) >= n &&
			       (p = memchr(p, short_contains[i][0], (size_t)(end - p) - n + 1)) != NULL) {
				if (!memcmp(p, short_contains[i], n))
					return 1;
				p++;
			}
		}
	}
	return 0;
}
