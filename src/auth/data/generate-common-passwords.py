#!/usr/bin/env python3
"""Writes common-passwords.txt: the deny list shipped with Cardline's password policy.

Sources, all written out here (no download): the passwords that top every published breach-corpus ranking
(NCSC's and SplashData's yearly lists, the RockYou top), keyboard walks, and common words, names, teams and
phrases, each with the suffixes people bolt on to pass a length rule ("Password123!", "liverpool2024").
The policy also strips such suffixes and leetspeak before looking a password up, so the base words alone
already catch most variants; the expanded forms make the list useful to other tools too.
Run: python3 src/auth/data/generate-common-passwords.py
"""
import os

TOP = """123456 password 12345678 qwerty 123456789 12345 1234 111111 1234567 dragon 123123 baseball abc123 football
monkey letmein 696969 shadow master 666666 qwertyuiop 123321 mustang 1234567890 michael 654321 superman 1qaz2wsx
7777777 121212 000000 qazwsx 123qwe killer trustno1 jordan jennifer zxcvbnm asdfgh hunter buster soccer harley
batman andrew tigger sunshine iloveyou 2000 charlie robert thomas hockey ranger daniel starwars klaster 112233
george computer michelle jessica pepper 1111 zxcvbn 555555 11111111 131313 freedom 777777 pass maggie 159753
aaaaaa ginger princess joshua cheese amanda summer love ashley nicole chelsea biteme matthew access yankees
987654321 dallas austin thunder taylor matrix mobilemail mom monitor monitoring montana moon moscow welcome
welcome1 admin administrator root toor passw0rd p@ssw0rd p@ssword passwort motdepasse contrasena senha
qwerty123 qwerty1 password1 password123 abc12345 1q2w3e4r 1q2w3e4r5t 1q2w3e 123abc a1b2c3 zaq12wsx qazwsxedc
1qazxsw2 asdfghjkl asdf1234 qweasdzxc qweasd zxcv1234 123654 147258369 147258 258369 159357 741852963 789456123
123456a 123456q a123456 aa123456 abcd1234 abcdef abcdefg abcdefgh 1234qwer qwer1234 q1w2e3r4 q1w2e3r4t5
iloveu iloveyou1 lovely loveme love123 babygirl princess1 angel angel1 friends flower forever hello hello123
whatever secret secret123 changeme changeit default guest test test123 testing demo letmein1 trustme
football1 baseball1 soccer1 hockey1 basketball tennis golfer cowboys steelers eagles packers lakers yankees1
liverpool arsenal manchester chelsea1 barcelona realmadrid juventus celtic rangers everton tottenham
starwars1 pokemon naruto superman1 batman1 spiderman ironman marvel avengers matrix1 gandalf frodo hogwarts
dragon1 shadow1 master1 monkey1 killer1 hunter1 tigger1 charlie1 jordan23 michael1 jessica1 ashley1 sunshine1
computer1 internet samsung apple iphone google yahoo microsoft windows linux ubuntu android nokia dell
summer1 winter spring autumn january february march april may june july august september october november
december monday friday sunday weekend holiday christmas easter halloween valentine birthday
qwertyuiop1 qwertyui 1qaz2wsx3edc zaq1zaq1 zaq1xsw2 !qaz2wsx 1qaz@wsx qwe123 qwe123qwe 123qweasd
000000000 0000000000 1111111111 2222222222 123123123 12341234 11223344 121212121 102030 10203040
987654 9876543210 0987654321 1234554321 123454321 12344321 5201314 woaini 520520 88888888 66666666 168168
""".split()

WORDS = """password passw0rd welcome letmein qwerty iloveyou sunshine princess football baseball basketball soccer
dragon monkey shadow master superman batman spiderman starwars pokemon computer internet freedom whatever trustno1
admin administrator cardline payments payment secure security contact centre center callcentre support service
customer helpdesk company business office account finance billing money banking london paris newyork berlin
madrid rome dublin sydney toronto chicago boston seattle dallas houston phoenix denver miami atlanta
summer winter spring autumn monday sunday christmas holiday birthday family friends forever together
michael jennifer jessica ashley amanda daniel david matthew andrew joshua christopher robert thomas james john
william richard charles joseph george edward henry oliver harry jack jacob noah liam ethan lucas mason logan
emily emma olivia sophia isabella mia charlotte amelia ava abigail elizabeth sarah hannah samantha lauren
nicole rachel rebecca laura anna maria julia sophie chloe grace lily ella lucy katie megan jasmine
charlie buster tigger maggie bailey max bella molly lucky rocky daisy coco ginger pepper oscar toby teddy
liverpool arsenal chelsea manchester united barcelona madrid juventus milan bayern celtic rangers everton
yankees cowboys steelers eagles packers lakers celtics bulls giants patriots raiders broncos
mustang ferrari porsche mercedes corvette camaro harley yamaha honda toyota nissan bmw audi
hello goodbye angel baby babygirl lovely loveme lover sweet honey sugar cookie chocolate cheese pizza
orange banana apple cherry strawberry purple yellow silver golden diamond crystal rainbow butterfly
thunder lightning phoenix tiger lion eagle falcon wolf bear shark dolphin panther jaguar cobra viper
killer hunter ranger soldier warrior knight ninja samurai pirate wizard legend hero matrix genesis
heaven angel1 jesus christ blessed faith church god trinity destiny freedom liberty justice
music guitar piano rocknroll metallica nirvana beatles eminem rihanna beyonce
gandalf hogwarts potter frodo zelda mario sonic minecraft fortnite roblox
changeme default secret private access system server network database backup
""".split()

SUFFIXES = ['', '1', '12', '123', '1234', '12345', '123456', '!', '1!', '123!', '01', '007', '69', '99', '00',
            '2020', '2021', '2022', '2023', '2024', '2025', '2026', '@123', '#1', '1234!']

WALKS = """qwertyuiop asdfghjkl zxcvbnm qwertyuiopasdfghjkl 1qaz2wsx3edc4rfv 1qaz2wsx3edc 2wsx3edc4rfv
qazwsxedcrfv zaq12wsxcde3 1q2w3e4r5t6y 1q2w3e4r5t6y7u8i q1w2e3r4t5y6 qweasdzxc123 asdfghjkl123
qwertyuiop123 1234567890qwerty 0987654321poiuy poiuytrewq lkjhgfdsa mnbvcxz 147852369 963852741
123456789abc abcdefghijkl abcdefghijklmnop aaaaaaaaaaaa 111111111111 123456123456 123123123123
abcabcabcabc qwertyqwerty passwordpassword iloveyouiloveyou 12345678910 123456789012 1234567890123
""".split()

PHRASES = """iloveyou iloveyouso iloveyoubaby iloveyoutoo letmeinnow letmeinplease welcometothejungle
thequickbrownfox correcthorsebatterystaple correcthorse trustnoone nevergiveup bestfriends
mypassword mypassword1 thepassword passwordisnull nopassword newpassword oldpassword changemenow
whatthehell whatever123 helloworld hellothere goodmorning happybirthday merrychristmas
""".split()

out = []
seen = set()
def add(p):
    p = p.strip().lower()
    if p and p not in seen:
        seen.add(p)
        out.append(p)

for p in TOP: add(p)
for p in WALKS: add(p)
for p in PHRASES: add(p)
for w in WORDS:
    for s in SUFFIXES:
        add(w + s)
    add(w + w)
    add(w.replace('a', '@').replace('o', '0').replace('e', '3') + '123')

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, 'common-passwords.txt'), 'w') as f:
    f.write('# Cardline password deny list (generated by generate-common-passwords.py; lower case, one per line)\n')
    for p in out:
        f.write(p + '\n')
print(len(out))
